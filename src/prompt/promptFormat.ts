// How a conversation becomes the prompt text a model continues, and how the model's raw
// continuation becomes the reply that is stored and shown. Two formats: the plain
// transcript here (models without a chat template, GPT-2), and the tokenizer's own chat
// template (templateRenderer.ts), which renders the whole window at once.
import type { ChatTemplate } from '../engine/protocol.js';
import { templateFormat } from './templateRenderer.js';
import { cutAtStop, END_OF_TEXT, tidy, type Message, type PromptFormat } from './promptShape.js';

export { cutAtStop } from './promptShape.js';
export type { Message, PromptFormat, PromptPieces } from './promptShape.js';

export interface SpeakerNames {
  user: string;
  assistant: string;
}

export const DEFAULT_NAMES: SpeakerNames = { user: 'User', assistant: 'Assistant' };

/**
 * The plain transcript for models without a chat template (GPT-2):
 *
 *     <persona>
 *
 *     User: …
 *     Assistant: …
 *     User: …
 *     Assistant:
 *
 * The cue has no trailing space: GPT-2's tokens carry their leading space, so the model
 * writes " Hello" itself, and cleanReply trims it. `bos` (a tokenizer that adds a BOS to
 * plain text, as Llama's do) starts the prompt.
 */
export function transcriptFormat(names: SpeakerNames = DEFAULT_NAMES, bos = ''): PromptFormat {
  const stop = [`\n${names.user}:`];
  const cue = `${names.assistant}:`;
  const personaText = (persona: string | null): string => (persona === null ? '' : `${tidy(persona)}\n\n`);
  const turnText = (turn: Message): string => {
    const text = tidy(turn.text);
    if (turn.role === 'system') return `${text}\n`;
    return `${turn.role === 'user' ? names.user : names.assistant}: ${text}\n`;
  };
  return {
    name: 'transcript',
    render: (persona, turns) => bos + personaText(persona) + turns.map(turnText).join('') + cue,
    pieces: (persona, turns) => ({ persona: personaText(persona), turns: turns.map(turnText), frame: bos + cue }),
    stop,
    prefixStable: true,
    cleanReply: (raw) => cutAtStop(raw, stop).trim(),
  };
}

export interface FormatOptions {
  /** The day a template's "today" means (Llama-3.2 writes it into the system header). */
  date?: Date;
}

/** The chat-template format when the model has one, else the transcript. */
export function formatFor(
  model: { hasChatTemplate: boolean; chatTemplate?: ChatTemplate | null; bosToken?: string | null },
  names: SpeakerNames = DEFAULT_NAMES,
  options: FormatOptions = {},
): PromptFormat {
  if (model.hasChatTemplate && model.chatTemplate) {
    return templateFormat(model.chatTemplate, { ...options, bos: model.bosToken ?? '' });
  }
  return transcriptFormat(names, model.bosToken ?? '');
}

/** Every marker that ends a reply: the format's stops and the end-of-text token. */
export function replyEndMarkers(format: PromptFormat): string[] {
  return [...format.stop, END_OF_TEXT];
}
