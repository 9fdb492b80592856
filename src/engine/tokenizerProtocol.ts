// Messages between the engine worker and its tokenizer thread (tokenizerWorker.ts).
import type { ChatTemplate } from './protocol.js';

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

export type ToTokenizer =
  | { type: 'encode'; id: number; texts: string[] }
  | { type: 'decode'; id: number; ids: number[] };

export type FromTokenizer =
  | { type: 'progress'; progress: TokenizerProgress }
  | { type: 'ready'; chatTemplate: ChatTemplate | null }
  | { type: 'failed'; message: string }
  | { type: 'encoded'; id: number; ids: number[][] }
  | { type: 'decoded'; id: number; text: string }
  | { type: 'error'; id: number; message: string };
