// /save: save the session now, or under a new name (the file is renamed).
import { sessionNameError } from '../../session/sessionNames.js';
import { optionalArg } from './commandArgs.js';
import type { SlashCommand } from './slashCommand.js';

export const saveCommand: SlashCommand = {
  name: 'save',
  aliases: [],
  args: '[name]',
  description: 'save the session, or save it under a new name',
  run: async (chat, raw) => {
    const { keeper, store } = chat;
    const target = optionalArg(raw) ?? keeper.session.name;
    const nameError = sessionNameError(target);
    if (nameError) return chat.view.notice(nameError, 'error');
    const saved = await keeper.serialized(async () => {
      const session = keeper.session;
      if (target !== session.name) {
        if (await store.exists(target)) return null;
        if (session.revision > 0) await store.rename(session.name, target);
      }
      return store.save({ ...session, name: target, model: chat.storedModelRef() ?? session.model }, chat.now());
    });
    if (!saved) return chat.view.notice(`a session "${target}" already exists; choose another name`, 'error');
    keeper.saved(target, saved.revision, saved.updatedAt);
    chat.view.notice(`Saved session ${target} to ${store.pathOf(target)}.`);
    void chat.refreshCompletionSources();
  },
};
