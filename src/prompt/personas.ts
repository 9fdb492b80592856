// Ready-made personas for the common uses of a small local model, selectable by name
// (`/persona translate`, `/persona translate French`, setting `persona: "qa"`). A name that
// is not a preset is taken as the persona text itself.

export interface PersonaPreset {
  name: string;
  description: string;
  /** The persona text; `argument` is what follows the name (translate's target language). */
  text: (argument: string | null) => string;
  /** What the argument is, for presets that take one; its default when none is given. */
  argument?: { usage: string; fallback: string };
}

const translation = (language: string): string =>
  `The assistant is a translator. It translates every message from the user into ${language}, faithfully and without comments, and writes only the translation.`;

export const PERSONA_PRESETS: readonly PersonaPreset[] = [
  {
    name: 'translate',
    description: 'translate each message into English, or the language named after it',
    text: (language) => translation(language ?? 'English'),
    argument: { usage: '[language]', fallback: 'English' },
  },
  {
    name: 'qa',
    description: 'answer questions briefly and factually',
    text: () => 'The assistant answers questions. Its answers are short, factual and to the point. When it does not know, it says so.',
  },
  {
    name: 'summarise',
    description: 'summarise the text the user sends',
    text: () =>
      'The assistant summarises texts. For every text the user sends, it writes a short summary of the main points in a few sentences.',
  },
];

/** A target language as a person writes one: letters, spaces, hyphens, apostrophes (Brazilian Portuguese, Scots Gaelic). */
const LANGUAGE = /^\p{L}[\p{L}\p{M} '’-]{0,39}$/u;

export function findPersonaPreset(name: string): PersonaPreset | null {
  const wanted = name.trim().toLowerCase();
  // "summarize" is how most of the world spells it; accept both.
  const canonical = wanted === 'summarize' ? 'summarise' : wanted;
  return PERSONA_PRESETS.find((p) => p.name === canonical) ?? null;
}

export type PersonaChoice =
  | { kind: 'preset'; preset: PersonaPreset; argument: string | null; text: string; label: string }
  | { kind: 'error'; message: string }
  | { kind: 'none' };

/** `name [argument]` as a preset: its text and label, an error for a bad argument, or none when `name` is no preset. */
export function choosePersonaPreset(input: string): PersonaChoice {
  const [name = '', ...rest] = input.trim().split(/\s+/);
  const preset = findPersonaPreset(name);
  if (!preset) return { kind: 'none' };
  const argument = rest.join(' ').trim() || null;
  if (argument !== null && !preset.argument) return { kind: 'error', message: `the ${preset.name} persona takes no argument` };
  if (argument !== null && !LANGUAGE.test(argument)) {
    return { kind: 'error', message: `"${argument}" is not a language name (letters, spaces and hyphens, up to 40)` };
  }
  const label = argument === null ? preset.name : `${preset.name} ${argument}`;
  return { kind: 'preset', preset, argument, text: preset.text(argument), label };
}

/** The persona text for a preset name (with its argument) or free text; null for empty input. */
export function resolvePersona(nameOrText: string | null): string | null {
  if (nameOrText === null || nameOrText.trim() === '') return null;
  const choice = choosePersonaPreset(nameOrText);
  return choice.kind === 'preset' ? choice.text : nameOrText;
}

/** How /settings names a persona text: the preset it is (with its argument), else the text, shortened. */
export function personaLabel(text: string): string {
  for (const preset of PERSONA_PRESETS) {
    if (!preset.argument && preset.text(null) === text) return preset.name;
    if (preset.argument) {
      const [before = '', after = ''] = preset.text('\u0000').split('\u0000');
      if (text.startsWith(before) && text.endsWith(after) && text.length > before.length + after.length) {
        const argument = text.slice(before.length, text.length - after.length);
        return argument === preset.argument.fallback ? preset.name : `${preset.name} ${argument}`;
      }
    }
  }
  const line = text.replace(/\s+/g, ' ').trim();
  return line.length <= 60 ? line : `${line.slice(0, 59)}…`;
}
