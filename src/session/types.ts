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

export interface Session {
  name: string;
  createdAt: string;
  updatedAt: string;
  /** Model ref (alias, hub id or folder) the session last used, and its dtype. */
  model: string | null;
  dtype: Dtype | null;
  /** Parameters the user set in this session (only those set; the rest come from settings). */
  params: Partial<SamplingParams>;
  conversation: Conversation;
  /** Bumped on every save; a save whose base revision is stale is refused. */
  revision: number;
  /**
   * Id of the first turn of the last context window (see contextWindow.ts). Saved so a
   * resumed session keeps the same prompt prefix instead of sliding anew; null or absent
   * when the window started at the beginning.
   */
  windowStart?: string | null;
}
