// Messages between the engine worker and its tokenizer thread (tokenizerWorker.ts).
import type { ChatTemplate } from '../protocol.js';
import type { ByteTable } from './byteLevelTable.js';

export interface TokenizerWorkerData {
  /** A model folder or hub id, as transformers.js takes it. */
  ref: string;
  offline: boolean;
  cacheDir: string;
}

/** The fields of transformers.js's ProgressInfo that loading reports. */
export interface TokenizerProgress {
  status: string;
  file?: string;
  loaded?: number;
  total?: number;
}

/** What the engine needs to know about the tokenizer's special tokens. */
export interface TokenizerInfo {
  /** Every special token (never shown: decoding skips them), with its id. */
  specialTokens: { content: string; id: number }[];
  /** The BOS as text and id, or null without one. */
  bos: { content: string; id: number } | null;
  /** Whether encoding plain text puts the BOS in front (Llama's post-processor does). */
  addsBos: boolean;
  /** The id of the tokenizer's eos_token, if it has one. */
  eosTokenId: number | null;
  /** The most bytes of input one token stands for (see inputBytesPerToken.ts); null: no bound holds. */
  maxTokenBytes?: number | null;
}

export type ToTokenizer =
  | { type: 'encode'; id: number; texts: string[] }
  /** Each list decoded with special tokens left out. */
  | { type: 'decode'; id: number; lists: number[][] };

export type FromTokenizer =
  | { type: 'progress'; progress: TokenizerProgress }
  | {
      type: 'ready';
      chatTemplate: ChatTemplate | null;
      info: TokenizerInfo;
      /** For byte-level tokenizers, the table that lets the engine decode without asking (its buffers are transferred). */
      byteTable: ByteTable | null;
    }
  | { type: 'failed'; message: string }
  | { type: 'encoded'; id: number; ids: number[][] }
  | { type: 'decoded'; id: number; texts: string[] }
  | { type: 'error'; id: number; message: string };
