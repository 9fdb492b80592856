// /system: set the persona (the session's system text), clear it, or show it.
import { setPersona } from '../../prompt/conversation.js';
import type { SlashCommand } from './slashCommand.js';

export const systemCommand: SlashCommand = {
  name: 'system',
  aliases: [],
  args: '[text|none]',
  description: 'set the persona (system text); alone, show it',
  run: (chat, raw) => {
    const text = raw.trim();
    const session = chat.keeper.session;
    if (text === '') {
      const persona = session.conversation.persona;
      return chat.view.notice(persona === null ? 'No persona. /system <text> or /persona <preset> sets one.' : `Persona: ${persona}`);
    }
    const persona = ['none', 'off', 'clear'].includes(text.toLowerCase()) ? null : text;
    chat.setSession({ ...session, conversation: setPersona(session.conversation, persona) });
    chat.view.notice(persona === null ? 'Persona cleared.' : 'Persona set.');
  },
};
