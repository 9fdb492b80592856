// /new: start a new session, once the one in use is saved (or the user lets it go).
import { resolvePersona } from '../../prompt/personas.js';
import { defaultSessionName, sessionNameError, uniqueSessionName } from '../../session/sessionNames.js';
import { newSession } from '../../session/sessionStore.js';
import { optionalArg, refusedWhileBusy } from './commandArgs.js';
import type { SlashCommand } from './slashCommand.js';

export const newCommand: SlashCommand = {
  name: 'new',
  aliases: [],
  args: '[name]',
  description: 'start a new session (the current one is saved)',
  run: async (chat, raw) => {
    const name = optionalArg(raw);
    if (refusedWhileBusy(chat, 'start a new session')) return;
    const taken = new Set((await chat.store.list()).map((e) => e.name));
    const chosen = name ?? uniqueSessionName(defaultSessionName(chat.now()), taken);
    const nameError = sessionNameError(chosen);
    if (nameError) return chat.view.notice(nameError, 'error');
    if (taken.has(chosen)) return chat.view.notice(`a session "${chosen}" already exists; /load ${chosen} continues it`, 'error');
    const persona = resolvePersona(chat.effective().values.persona);
    await chat.unsaved.leave('starting a new session', () =>
      chat.replaceSession(newSession(chosen, { persona, now: chat.now() }), `New session ${chosen}.`),
    );
  },
};
