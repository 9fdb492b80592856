// /persona: one of the ready-made personas as the session's system text.
import { setPersona } from '../../prompt/conversation.js';
import { findPersonaPreset, PERSONA_PRESETS } from '../../prompt/personas.js';
import { requireArg } from './commandArgs.js';
import type { SlashCommand } from './slashCommand.js';

export const personaCommand: SlashCommand = {
  name: 'persona',
  aliases: [],
  args: '<preset>',
  description: 'use a ready-made persona',
  completes: 'persona',
  run: (chat, raw) => {
    const name = requireArg(chat, 'persona', '<preset>', raw);
    if (name === null) return;
    const preset = findPersonaPreset(name);
    if (!preset) {
      return chat.view.notice(`unknown persona preset "${name}" (presets: ${PERSONA_PRESETS.map((p) => p.name).join(', ')})`, 'error');
    }
    const session = chat.keeper.session;
    chat.setSession({ ...session, conversation: setPersona(session.conversation, preset.text) });
    chat.view.notice(`Persona: ${preset.name}, ${preset.description}.`);
  },
};
