// /persona: one of the ready-made personas as the session's system text.
import { setPersona } from '../../prompt/conversation.js';
import { choosePersonaPreset, PERSONA_PRESETS } from '../../prompt/personas.js';
import { requireArg } from './commandArgs.js';
import type { SlashCommand } from './slashCommand.js';

export const personaCommand: SlashCommand = {
  name: 'persona',
  aliases: [],
  args: '<preset> [language]',
  description: 'use a ready-made persona (translate takes a target language: /persona translate French)',
  completes: 'persona',
  run: (chat, raw) => {
    const input = requireArg(chat, 'persona', '<preset> [language]', raw);
    if (input === null) return;
    const choice = choosePersonaPreset(input);
    if (choice.kind === 'none') {
      const name = input.trim().split(/\s+/)[0] ?? input;
      return chat.view.notice(`unknown persona preset "${name}" (presets: ${PERSONA_PRESETS.map((p) => p.name).join(', ')})`, 'error');
    }
    if (choice.kind === 'error') return chat.view.notice(choice.message, 'error');
    const session = chat.keeper.session;
    chat.setSession({ ...session, conversation: setPersona(session.conversation, choice.text) });
    const description =
      choice.preset.name === 'translate' ? `translate each message into ${choice.argument ?? 'English'}` : choice.preset.description;
    chat.view.notice(`Persona: ${choice.label}, ${description}.`);
  },
};
