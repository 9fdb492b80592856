// /load: continue a saved session, offering to switch to the model it used.
import { requireArg, refusedWhileBusy } from './commandArgs.js';
import { switchModel } from './model.js';
import type { SlashCommand } from './slashCommand.js';
import { counted } from '../../text/format.js';

export const loadCommand: SlashCommand = {
  name: 'load',
  aliases: ['resume'],
  args: '<name>',
  description: 'continue a saved session',
  completes: 'session',
  run: async (chat, raw) => {
    const name = requireArg(chat, 'load', '<name>', raw);
    if (name === null) return;
    if (refusedWhileBusy(chat, 'switch sessions')) return;
    if (name === chat.keeper.session.name) return chat.view.notice(`Session ${name} is the one in use.`);
    const session = await chat.store.load(name);
    await chat.unsaved.leave(`loading ${name}`, () => {
      chat.replaceSession(session, `Resumed session ${name} (${counted(session.conversation.turns.length, 'turn')}).`);
      const model = session.model;
      if (model !== null && model !== chat.storedModelRef()) {
        chat.questions.ask(`Session ${name} used the model ${model}. Switch to it?`, () => switchModel(chat, model));
      }
    });
  },
};
