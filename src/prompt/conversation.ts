// Pure operations on a Conversation. Every function returns a new object and never
// mutates its input, so React state can hold conversations directly.
//
// An "exchange" is a user turn plus the turns that follow it up to the next user turn
// (normally one assistant reply). Operations that return null had nothing to act on;
// the caller says so to the user rather than this module throwing.
import { randomUUID } from 'node:crypto';
import type { Conversation, ReplyMeta, Role, Turn } from './conversationTypes.js';

export interface TurnOptions {
  /** Fixed id (tests, imports); by default a fresh random one. */
  id?: string;
  /** Creation time; by default now. */
  now?: Date;
}

export function emptyConversation(persona: string | null = null): Conversation {
  return { persona: normalisePersona(persona), turns: [] };
}

export function addUser(conversation: Conversation, text: string, options: TurnOptions = {}): Conversation {
  return withTurn(conversation, 'user', text, undefined, options);
}

export function appendReply(conversation: Conversation, text: string, meta?: ReplyMeta, options: TurnOptions = {}): Conversation {
  return withTurn(conversation, 'assistant', text, meta, options);
}

/**
 * Prepares a regeneration of the last reply: drops the turns after the newest user turn,
 * so the conversation ends with that user turn, ready to be sent again.
 * Null when there is no user turn.
 */
export function retry(conversation: Conversation): Conversation | null {
  const at = lastUserIndex(conversation);
  if (at === -1) return null;
  return { ...conversation, turns: conversation.turns.slice(0, at + 1) };
}

/** Removes the last exchange (the newest user turn and its reply). Null when there is none. */
export function undo(conversation: Conversation): Conversation | null {
  const at = lastUserIndex(conversation);
  if (at === -1) return null;
  return { ...conversation, turns: conversation.turns.slice(0, at) };
}

/**
 * Removes the last exchange and hands back its user text, so the UI can put it in the
 * input box for editing and resend it. Null when there is no user turn.
 */
export function editLast(conversation: Conversation): { conversation: Conversation; text: string } | null {
  const at = lastUserIndex(conversation);
  if (at === -1) return null;
  const userTurn = conversation.turns[at] as Turn;
  return { conversation: { ...conversation, turns: conversation.turns.slice(0, at) }, text: userTurn.text };
}

/** Sets the persona; null, empty or blank text clears it. */
export function setPersona(conversation: Conversation, persona: string | null): Conversation {
  return { ...conversation, persona: normalisePersona(persona) };
}

/** True when the conversation ends with a user turn that has no reply yet. */
export function awaitsReply(conversation: Conversation): boolean {
  return conversation.turns.at(-1)?.role === 'user';
}

function lastUserIndex(conversation: Conversation): number {
  return conversation.turns.findLastIndex((t) => t.role === 'user');
}

function normalisePersona(persona: string | null): string | null {
  return persona === null || persona.trim() === '' ? null : persona;
}

function withTurn(conversation: Conversation, role: Role, text: string, meta: ReplyMeta | undefined, options: TurnOptions): Conversation {
  const id = options.id ?? freshId(conversation);
  if (conversation.turns.some((t) => t.id === id)) throw new Error(`duplicate turn id ${id}`);
  const turn: Turn = { id, role, text, createdAt: (options.now ?? new Date()).toISOString() };
  if (meta !== undefined) turn.meta = meta;
  return { ...conversation, turns: [...conversation.turns, turn] };
}

// Ids only need to be unique within one conversation: the context window remembers
// where it starts by turn id, so an id must never be reused for a different turn.
function freshId(conversation: Conversation): string {
  for (;;) {
    const id = randomUUID().slice(0, 13).replace('-', '');
    if (!conversation.turns.some((t) => t.id === id)) return id;
  }
}
