import type { ChatTemplate } from '../protocol.js';
import { Worker } from 'node:worker_threads';
import type { FromTokenizer, TokenizerInfo, TokenizerProgress, TokenizerWorkerData, ToTokenizer } from './tokenizerProtocol.js';
import type { ByteTable } from './byteLevelTable.js';
import { ByteLevelDetokenizer, type IncrementalDetokenizer } from './byteLevelDetokenizer.js';
import { TailWindowDetokenizer } from './tailWindowDetokenizer.js';

type Reply = Extract<FromTokenizer, { id: number }>;

/**
 * The tokenizer thread's young generation, in MB. V8's default lets it grow to tens of MB while
 * tokenizer.json is parsed, and that memory stays mapped for the life of the process; at 4 MB
 * the thread's resident size is about 25 MB smaller (Qwen2.5's tokenizer: 210 → 185 MB for the
 * process) and encoding a 150 kB text is no slower, since what survives is mostly the vocabulary
 * and merges, promoted to the old generation either way.
 */
export const TOKENIZER_YOUNG_GENERATION_MB = 4;

/**
 * The model's tokenizer, run in a thread of its own (see tokenizerWorker.ts for why) and
 * used from the engine worker through messages. A byte-level tokenizer's decoding needs no
 * messages: its byte table came with the tokenizer and decodes here.
 */
export class RemoteTokenizer {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(msg: Reply): void; reject(err: Error): void }>();
  private failure: Error | null = null;

  private constructor(
    private readonly worker: Worker,
    readonly chatTemplate: ChatTemplate | null,
    readonly info: TokenizerInfo,
    private readonly byteTable: ByteTable | null,
  ) {
    worker.on('message', (msg: FromTokenizer) => {
      if (!('id' in msg)) return;
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (msg.type === 'error') p?.reject(new Error(msg.message));
      else p?.resolve(msg);
    });
    const fail = (err: Error): void => {
      this.failure = err;
      for (const p of this.pending.values()) p.reject(err);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the tokenizer thread exited with code ${code}`)));
  }

  /** Starts the thread and loads the tokenizer of `data.ref`; rejects with transformers.js's error. */
  static load(data: TokenizerWorkerData, onProgress: (p: TokenizerProgress) => void): Promise<RemoteTokenizer> {
    const worker = new Worker(new URL('./tokenizerWorker.js', import.meta.url), {
      workerData: data,
      resourceLimits: { maxYoungGenerationSizeMb: TOKENIZER_YOUNG_GENERATION_MB },
    });
    return new Promise((resolve, reject) => {
      const onMessage = (msg: FromTokenizer): void => {
        if (msg.type === 'progress') return onProgress(msg.progress);
        if (msg.type !== 'ready' && msg.type !== 'failed') return;
        worker.off('message', onMessage);
        worker.off('error', onError);
        if (msg.type === 'ready') return resolve(new RemoteTokenizer(worker, msg.chatTemplate, msg.info, msg.byteTable));
        void worker.terminate();
        reject(new Error(msg.message));
      };
      const onError = (err: Error): void => {
        worker.off('message', onMessage);
        reject(err);
      };
      worker.on('message', onMessage);
      worker.once('error', onError);
    });
  }

  async encode(texts: string[]): Promise<number[][]> {
    const reply = await this.request({ type: 'encode', id: this.nextId++, texts });
    if (reply.type !== 'encoded') throw new Error(`unexpected tokenizer reply ${reply.type}`);
    return reply.ids;
  }

  /** A decoder for one reply's tokens, one at a time: local for a byte-level tokenizer, else a short window decoded by the thread. */
  incremental(): IncrementalDetokenizer {
    return this.byteTable ? new ByteLevelDetokenizer(this.byteTable) : new TailWindowDetokenizer((lists) => this.decodeMany(lists));
  }

  /** Whether decoding happens here, without the tokenizer thread. */
  get decodesLocally(): boolean {
    return this.byteTable !== null;
  }

  private async decodeMany(lists: number[][]): Promise<string[]> {
    const reply = await this.request({ type: 'decode', id: this.nextId++, lists });
    if (reply.type !== 'decoded') throw new Error(`unexpected tokenizer reply ${reply.type}`);
    return reply.texts;
  }

  /** The thread's V8 heap limits (its young generation is kept small). */
  get heapLimits(): Worker['resourceLimits'] {
    return this.worker.resourceLimits;
  }

  async release(): Promise<void> {
    await this.worker.terminate();
  }

  private request(msg: ToTokenizer): Promise<Reply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      this.pending.set(msg.id, { resolve, reject });
      this.worker.postMessage(msg);
    });
  }
}
