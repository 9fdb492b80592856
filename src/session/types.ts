import type { Dtype, SamplingParams } from '../engine/protocol.js';
import type { Conversation } from '../prompt/conversationTypes.js';

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
