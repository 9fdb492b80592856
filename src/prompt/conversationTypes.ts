import type { Dtype, DoneReason, SamplingParams } from '../engine/protocol.js';

export type Role = 'system' | 'user' | 'assistant';

export interface ReplyMeta {
  model: string;
  dtype: Dtype;
  params: SamplingParams;
  promptTokens: number;
  generatedTokens: number;
  tokensPerSecond: number;
  ttftMs: number;
  reason: DoneReason;
  /** The user stopped the reply; the partial text is kept. */
  interrupted: boolean;
}

export interface Turn {
  id: string;
  role: Role;
  text: string;
  /** ISO 8601. */
  createdAt: string;
  meta?: ReplyMeta;
}

/** Conversation state; persona lives apart from the turns so it is always in the window. */
export interface Conversation {
  persona: string | null;
  turns: Turn[];
}
