// The shape every prompt format has, and the text helpers the formats share, in a module of
// its own so the formats (the transcript in promptFormat.ts, chat templates in
// templateRenderer.ts) depend on it and not on each other.
import { earliestStop } from '../engine/reply/stopSequences.js';
import type { Role } from './conversationTypes.js';

/** GPT-2's end-of-text token as text: never shown even if a decoder lets it through. */
export const END_OF_TEXT = '<|endoftext|>';

export interface Message {
  role: Role;
  text: string;
}

/** A prompt cut into parts whose token counts add up to about the whole prompt's. */
export interface PromptPieces {
  /** What the persona adds ('' without one, or where the format puts it inside a turn). */
  persona: string;
  /** One per turn, in order. */
  turns: string[];
  /** Everything else: the cue for the reply, and a BOS when the format adds one. */
  frame: string;
}

export interface PromptFormat {
  readonly name: string;
  /** The whole prompt for `persona` (null: none) and `turns`, ending where the reply begins. */
  render(persona: string | null, turns: readonly Message[]): string;
  /**
   * The same prompt in parts, to estimate and cache token counts turn by turn. The context
   * window counts the rendered whole before it trusts a choice made from these.
   */
  pieces(persona: string | null, turns: readonly Message[]): PromptPieces;
  /** Text (or special tokens) that ends the reply: the model has closed its turn or begun another. */
  readonly stop: readonly string[];
  /**
   * True when appending turns never changes the text before them: the prompt plus its reply
   * is a prefix of the next prompt. False for templates that move text (Mistral puts the
   * system prompt into the last user turn): the engine then prefills every prompt afresh.
   */
  readonly prefixStable: boolean;
  /** The reply to store and show, from the raw generated text. */
  cleanReply(raw: string): string;
}

// Edge whitespace of a message carries no meaning in a chat but would break the
// one-line-per-speaker shape; leading spaces of a first code line are kept.
export function tidy(text: string): string {
  return text.replace(/^\s*\n/, '').trimEnd();
}

/** `text` up to the earliest stop marker or end-of-text token. */
export function cutAtStop(text: string, stop: readonly string[]): string {
  const at = earliestStop(text, [...stop, END_OF_TEXT]);
  return at === -1 ? text : text.slice(0, at);
}
