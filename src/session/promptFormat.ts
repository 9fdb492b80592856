// How a conversation becomes the prompt text a model continues, and how the model's raw
// continuation becomes the reply that is stored and shown.
//
// A format renders the prompt as a concatenation of independent segments: the persona
// header, one segment per turn, then a cue for the reply. Segments never depend on their
// neighbours, so the context window can count (and cache) tokens per turn, and a later
// KV-cache reuse can tokenise turn by turn.
import type { ChatTemplate } from '../engine/protocol.js';
import { templateRenderer } from './templateRenderer.js';
import { earliestStop } from '../engine/stopSequences.js';
import type { Role, Turn } from './types.js';

/** GPT-2's end-of-text token as text: never shown even if a decoder lets it through. */
export const END_OF_TEXT = '<|endoftext|>';

export interface PromptFormat {
  readonly name: string;
  /** The persona header (system text), separators included. */
  personaSegment(persona: string): string;
  /** One turn as it appears in the prompt, separators included. */
  turnSegment(turn: Pick<Turn, 'role' | 'text'>): string;
  /** Ends the prompt so the model writes the assistant's reply. */
  readonly replyCue: string;
  /** Text that means the model has started another turn; the reply ends before it. */
  readonly stop: readonly string[];
  /** The reply to store and show, from the raw generated text. */
  cleanReply(raw: string): string;
}

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
 * writes " Hello" itself, and cleanReply trims it.
 */
export function transcriptFormat(names: SpeakerNames = DEFAULT_NAMES): PromptFormat {
  const stop = [`\n${names.user}:`];
  return {
    name: 'transcript',
    personaSegment: (persona) => `${tidy(persona)}\n\n`,
    turnSegment: (turn) => {
      const text = tidy(turn.text);
      if (turn.role === 'system') return `${text}\n`;
      return `${turn.role === 'user' ? names.user : names.assistant}: ${text}\n`;
    },
    replyCue: `${names.assistant}:`,
    stop,
    cleanReply: (raw) => cutAtStop(raw, stop).trim(),
  };
}

/**
 * Renders single messages the way a tokenizer's chat template does. Rendering message by
 * message (rather than the whole list at once) keeps segments independent; it matches
 * templates such as ChatML that render each message on its own.
 */
export interface ChatTemplateRenderer {
  readonly name: string;
  message(role: Role, content: string): string;
  /** Opens the assistant's message (the template's add_generation_prompt). */
  readonly generationPrompt: string;
  /** End-of-message markers. */
  readonly stop: readonly string[];
}

export const CHATML: ChatTemplateRenderer = {
  name: 'chatml',
  message: (role, content) => `<|im_start|>${role}\n${content}<|im_end|>\n`,
  generationPrompt: '<|im_start|>assistant\n',
  stop: ['<|im_end|>', '<|im_start|>'],
};

/** The format for instruct models whose tokenizer has a chat template (see templateRenderer). */
export function chatTemplateFormat(renderer: ChatTemplateRenderer): PromptFormat {
  return {
    name: `chat-template:${renderer.name}`,
    personaSegment: (persona) => renderer.message('system', tidy(persona)),
    turnSegment: (turn) => renderer.message(turn.role, tidy(turn.text)),
    replyCue: renderer.generationPrompt,
    stop: renderer.stop,
    cleanReply: (raw) => cutAtStop(raw, renderer.stop).trim(),
  };
}

/** The chat-template format when the model has one and a renderer is known, else the transcript. */
export function formatFor(
  model: { hasChatTemplate: boolean; chatTemplate?: ChatTemplate | null },
  names: SpeakerNames = DEFAULT_NAMES,
  renderer?: ChatTemplateRenderer,
): PromptFormat {
  const chosen = renderer ?? (model.chatTemplate ? templateRenderer(model.chatTemplate) : undefined);
  return model.hasChatTemplate && chosen !== undefined ? chatTemplateFormat(chosen) : transcriptFormat(names);
}

/** The whole prompt: persona header, the turns, the reply cue. */
export function assemblePrompt(format: PromptFormat, persona: string | null, turns: readonly Pick<Turn, 'role' | 'text'>[]): string {
  return (persona === null ? '' : format.personaSegment(persona)) + turns.map(format.turnSegment).join('') + format.replyCue;
}

/** Every marker that ends a reply: the format's stops and the end-of-text token. */
export function replyEndMarkers(format: PromptFormat): string[] {
  return [...format.stop, END_OF_TEXT];
}

/** `text` up to the earliest stop marker or end-of-text token. */
export function cutAtStop(text: string, stop: readonly string[]): string {
  const at = earliestStop(text, [...stop, END_OF_TEXT]);
  return at === -1 ? text : text.slice(0, at);
}

// Edge whitespace of a message carries no meaning in a chat but would break the
// one-line-per-speaker shape; leading spaces of a first code line are kept.
function tidy(text: string): string {
  return text.replace(/^\s*\n/, '').trimEnd();
}
