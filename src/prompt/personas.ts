// Ready-made personas for the common uses of a small local model, selectable by name
// (`/persona translate`, setting `persona: "qa"`). A name that is not a preset is taken
// as the persona text itself.

export interface PersonaPreset {
  name: string;
  description: string;
  text: string;
}

export const PERSONA_PRESETS: readonly PersonaPreset[] = [
  {
    name: 'translate',
    description: 'translate each message into English',
    text: 'The assistant is a translator. It translates every message from the user into English, faithfully and without comments, and writes only the translation.',
  },
  {
    name: 'qa',
    description: 'answer questions briefly and factually',
    text: 'The assistant answers questions. Its answers are short, factual and to the point. When it does not know, it says so.',
  },
  {
    name: 'summarise',
    description: 'summarise the text the user sends',
    text: 'The assistant summarises texts. For every text the user sends, it writes a short summary of the main points in a few sentences.',
  },
];

export function findPersonaPreset(name: string): PersonaPreset | null {
  const wanted = name.trim().toLowerCase();
  // "summarize" is how most of the world spells it; accept both.
  const canonical = wanted === 'summarize' ? 'summarise' : wanted;
  return PERSONA_PRESETS.find((p) => p.name === canonical) ?? null;
}

/** The persona text for a preset name or free text; null for empty input. */
export function resolvePersona(nameOrText: string | null): string | null {
  if (nameOrText === null || nameOrText.trim() === '') return null;
  return findPersonaPreset(nameOrText)?.text ?? nameOrText;
}
