// /delete: remove a saved session's file, after asking; never the session in use.
import { sessionNameError } from '../../session/sessionNames.js';
import { requireArg } from './commandArgs.js';
import type { SlashCommand } from './slashCommand.js';

export const deleteCommand: SlashCommand = {
  name: 'delete',
  aliases: [],
  args: '<name>',
  description: 'delete a saved session (asks first)',
  completes: 'session',
  run: async (chat, raw) => {
    const name = requireArg(chat, 'delete', '<name>', raw);
    if (name === null) return;
    const { store, view } = chat;
    const nameError = sessionNameError(name);
    if (nameError) return view.notice(nameError, 'error');
    if (name === chat.keeper.session.name) return view.notice(`Session ${name} is the one in use; /new or /load another first.`, 'error');
    if (!(await store.exists(name))) return view.notice(`there is no session "${name}"; /sessions lists them`, 'error');
    chat.questions.ask(`Delete session ${name} (${store.pathOf(name)})?`, async () => {
      await store.delete(name);
      view.notice(`Deleted session ${name}.`);
      void chat.refreshCompletionSources();
    });
  },
};
