import { Worker } from 'node:worker_threads';
import { EngineError, type EngineClient, type GenerationStream } from '../engineClient.js';
import { BURST_MS } from './tokenCoalescer.js';
import type { FromWorker, GenerateEvent, GenerateParams, LoadOptions, LoadProgress, ModelInfo, ToWorker, WorkerData } from '../protocol.js';

/**
 * The engine thread's young generation, in MB. Every step allocates feeds and tensors that die
 * young; with V8's default the young generation grows to tens of MB that stay mapped. At 4 MB
 * peak RSS was 6–8 MB lower (SmolLM2's shape, q8, 16 and 896 tokens) at the same decode speed;
 * at 2 or 1 MB the long prompt decoded slower.
 */
export const ENGINE_YOUNG_GENERATION_MB = 4;

export interface WorkerEngineOptions {
  /** Hub downloads and the generated demo model go here. */
  cacheDir: string;
  /** Reuse the previous request's KV cache for a shared prompt prefix (default true). */
  prefixCache?: boolean;
  /** Decode up to this many generations together when the model allows (parley serve). */
  batch?: number;
  /**
   * Hold a reply's tokens up to this long and send them together (default BURST_MS): the
   * chat draws a few frames a second, and a message per token costs its thread more than
   * the drawing. A server passes 0, so each token reaches its HTTP clients as it is made.
   */
  tokenBurstMs?: number;
  /** The worker's script; tests pass one that misbehaves on purpose. */
  workerUrl?: URL;
}

/** A worker that crashes this often within RESTART_WINDOW_MS is not started again by itself. */
export const MAX_RESTARTS = 3;
export const RESTART_WINDOW_MS = 60_000;

const endedBy = (error: string): GenerateEvent => ({
  type: 'done',
  reason: 'error',
  error,
  text: '',
  promptTokens: 0,
  generatedTokens: 0,
  ttftMs: 0,
  tokensPerSecond: 0,
});

type Reply = Extract<FromWorker, { type: 'ready' | 'tokens' | 'counts' | 'disposed' }>;

interface Pending {
  resolve(msg: Reply): void;
  reject(err: EngineError): void;
  onProgress?: (p: LoadProgress) => void;
}

/**
 * Events of one generation, buffered until its consumer pulls them. After cancel() the
 * tokens the consumer has not pulled yet are late: they are dropped, and the done event is
 * made to match what was delivered, so the deltas still concatenate to `done.text`.
 */
class EventQueue implements AsyncIterable<GenerateEvent> {
  private events: GenerateEvent[] = [];
  private waiting: ((r: IteratorResult<GenerateEvent>) => void) | null = null;
  private ended = false;
  private cancelled = false;
  private dropped = 0;
  private deliveredText = '';
  private deliveredTokens = 0;

  constructor(private readonly onClose: () => void) {}

  cancel(): void {
    this.cancelled = true;
    const late = this.events.filter((e) => e.type === 'token').length;
    this.dropped += late;
    this.events = this.events.filter((e) => e.type !== 'token');
  }

  push(event: GenerateEvent): void {
    if (this.ended) return;
    if (event.type === 'token' && this.cancelled) {
      this.dropped++;
      return;
    }
    if (event.type === 'done') this.ended = true;
    if (this.waiting) {
      const w = this.waiting;
      this.waiting = null;
      w({ value: this.deliver(event), done: false });
    } else this.events.push(event);
  }

  private deliver(event: GenerateEvent): GenerateEvent {
    if (event.type === 'token') {
      this.deliveredText += event.text;
      if (event.tokenId >= 0) this.deliveredTokens++;
      return event;
    }
    this.onClose();
    if (this.dropped === 0) return event;
    return { ...event, reason: 'cancelled', text: this.deliveredText, generatedTokens: this.deliveredTokens };
  }

  [Symbol.asyncIterator](): AsyncIterator<GenerateEvent> {
    let finished = false;
    return {
      next: () => {
        if (finished) return Promise.resolve({ value: undefined, done: true });
        const event = this.events.shift();
        if (event) {
          if (event.type === 'done') finished = true;
          return Promise.resolve({ value: this.deliver(event), done: false });
        }
        return new Promise((resolve) => {
          this.waiting = (r) => {
            if (!r.done && r.value.type === 'done') finished = true;
            resolve(r);
          };
        });
      },
      return: () => {
        // The consumer stopped listening: drop whatever this request still sends.
        finished = true;
        this.onClose();
        return Promise.resolve({ value: undefined, done: true });
      },
    };
  }
}

/**
 * The real engine: one long-lived worker thread that owns the model. Requests carry ids;
 * events for a request nobody listens to any more are dropped. If the worker dies, every
 * open request fails with one sentence, crash listeners hear about it, and a new worker is
 * started with the last model reloaded, so the conversation (kept on this side) goes on.
 */
export class WorkerEngineClient implements EngineClient {
  private worker!: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly streams = new Map<number, EventQueue>();
  private readonly cancelBuffer = new SharedArrayBuffer(4);
  private readonly cancelFlag = new Int32Array(this.cancelBuffer);
  private readonly crashListeners = new Set<(message: string, reload: Promise<ModelInfo | null>) => void>();
  /** When the worker crashed, within the last RESTART_WINDOW_MS. */
  private crashTimes: number[] = [];
  /** Set after too many crashes: no worker runs until the next load(). */
  private stoppedBecause: string | null = null;
  private lastLoad: { modelRef: string; options: LoadOptions } | null = null;
  private lastGenerationId = 0;
  private disposing = false;
  private stderrTail = '';
  model: ModelInfo | null = null;

  constructor(private readonly options: WorkerEngineOptions) {
    this.spawn();
  }

  private spawn(): void {
    const data: WorkerData = {
      cancelFlag: this.cancelBuffer,
      cacheDir: this.options.cacheDir,
      prefixCache: this.options.prefixCache ?? true,
      tokenBurstMs: this.options.tokenBurstMs ?? BURST_MS,
      ...(this.options.batch !== undefined ? { batch: this.options.batch } : {}),
    };
    // stdout/stderr are captured: a library printing from the worker must not tear the UI.
    const url = this.options.workerUrl ?? new URL('./engineWorker.js', import.meta.url);
    this.worker = new Worker(url, {
      workerData: data,
      stdout: true,
      stderr: true,
      resourceLimits: { maxYoungGenerationSizeMb: ENGINE_YOUNG_GENERATION_MB },
    });
    this.worker.stdout.resume();
    this.worker.stderr.on('data', (chunk: Buffer) => {
      this.stderrTail = (this.stderrTail + chunk.toString()).slice(-2000);
    });
    this.worker.on('message', (msg: FromWorker) => this.onMessage(msg));
    const worker = this.worker;
    this.worker.on('error', (err) => this.handleCrash(worker, err.message));
    this.worker.on('exit', (code) => {
      if (!this.disposing) this.handleCrash(worker, `the engine worker exited with code ${code}`);
    });
  }

  private onMessage(msg: FromWorker): void {
    switch (msg.type) {
      case 'token':
        this.streams.get(msg.id)?.push({ type: 'token', text: msg.text, tokenId: msg.tokenId });
        return;
      case 'token-burst':
        for (const token of msg.tokens) this.streams.get(token.id)?.push({ type: 'token', text: token.text, tokenId: token.tokenId });
        return;
      case 'done': {
        const { id: _id, type: _type, ...stats } = msg;
        this.streams.get(msg.id)?.push({ type: 'done', ...stats });
        return;
      }
      case 'progress':
        this.pending.get(msg.id)?.onProgress?.(msg.progress);
        return;
      case 'error': {
        // The worker reports a failure outside a request's own handling this way; a
        // generation must end with it too, or its consumer would wait forever.
        this.streams.get(msg.id)?.push(endedBy(msg.message));
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        p?.reject(new EngineError(msg.code, msg.message));
        return;
      }
      default: {
        const p = this.pending.get(msg.id);
        this.pending.delete(msg.id);
        p?.resolve(msg);
      }
    }
  }

  private crashedWorker: Worker | null = null;

  private handleCrash(worker: Worker, reason: string): void {
    if (this.crashedWorker === worker || worker !== this.worker) return; // 'error' then 'exit'
    this.crashedWorker = worker;
    const detail = this.stderrTail.trim().split('\n').pop();
    const now = Date.now();
    this.crashTimes = [...this.crashTimes.filter((t) => now - t < RESTART_WINDOW_MS), now];
    const giveUp = this.crashTimes.length > MAX_RESTARTS;
    const message = `the engine crashed (${reason}${detail ? `: ${detail}` : ''}); ${giveUp ? 'not restarting it' : 'restarting it'}`;
    for (const p of this.pending.values()) p.reject(new EngineError('crashed', message));
    this.pending.clear();
    for (const s of this.streams.values()) s.push(endedBy(message));
    this.streams.clear();
    this.model = null;
    this.stderrTail = '';
    let reload: Promise<ModelInfo | null>;
    if (giveUp) {
      this.stoppedBecause = `the engine crashed ${this.crashTimes.length} times within a minute, so it is stopped; /model loads a model and starts it again`;
      reload = Promise.reject(new EngineError('crashed', this.stoppedBecause));
    } else {
      this.spawn();
      const last = this.lastLoad;
      reload = last ? this.reload(last.modelRef, last.options) : Promise.resolve(null);
    }
    // Listeners may not look at the outcome; it must not become an unhandled rejection.
    reload.catch(() => undefined);
    for (const l of this.crashListeners) l(message, reload);
  }

  private async reload(modelRef: string, options: LoadOptions): Promise<ModelInfo> {
    const reply = await this.request({ type: 'load', id: this.nextId++, modelRef, options });
    if (reply.type !== 'ready') throw new EngineError('internal', `unexpected reply ${reply.type} to load`);
    this.model = reply.info;
    return reply.info;
  }

  private request(msg: ToWorker, onProgress?: (p: LoadProgress) => void): Promise<Reply> {
    if (this.stoppedBecause !== null) return Promise.reject(new EngineError('crashed', this.stoppedBecause));
    return new Promise((resolve, reject) => {
      this.pending.set(msg.id, { resolve, reject, ...(onProgress ? { onProgress } : {}) });
      this.worker.postMessage(msg);
    });
  }

  async load(modelRef: string, options: LoadOptions, onProgress?: (p: LoadProgress) => void): Promise<ModelInfo> {
    if (this.stoppedBecause !== null) {
      // The user asks for a model again after the engine was given up: a fresh start.
      this.stoppedBecause = null;
      this.crashTimes = [];
      this.spawn();
    }
    const reply = await this.request({ type: 'load', id: this.nextId++, modelRef, options }, onProgress);
    if (reply.type !== 'ready') throw new EngineError('internal', `unexpected reply ${reply.type} to load`);
    this.model = reply.info;
    this.lastLoad = { modelRef, options };
    return reply.info;
  }

  async countTokens(texts: string[]): Promise<number[]> {
    if (texts.length === 0) return [];
    const reply = await this.request({ type: 'count', id: this.nextId++, texts });
    if (reply.type !== 'counts') throw new EngineError('internal', `unexpected reply ${reply.type} to count`);
    return reply.counts;
  }

  async tokenize(texts: string[]): Promise<number[][]> {
    if (texts.length === 0) return [];
    const reply = await this.request({ type: 'tokenize', id: this.nextId++, texts });
    if (reply.type !== 'tokens') throw new EngineError('internal', `unexpected reply ${reply.type} to tokenize`);
    return reply.ids;
  }

  generate(prompt: string, params: GenerateParams): GenerationStream {
    const id = this.nextId++;
    this.lastGenerationId = id;
    const queue = new EventQueue(() => this.streams.delete(id));
    if (this.stoppedBecause !== null) {
      queue.push(endedBy(this.stoppedBecause));
      return Object.assign(queue, { requestId: id });
    }
    this.streams.set(id, queue);
    this.worker.postMessage({ type: 'generate', id, prompt, params } satisfies ToWorker);
    return Object.assign(queue, { requestId: id });
  }

  cancel(requestId?: number): void {
    const id = requestId ?? this.lastGenerationId;
    Atomics.store(this.cancelFlag, 0, id);
    this.worker.postMessage({ type: 'cancel', id } satisfies ToWorker);
    this.streams.get(id)?.cancel();
  }

  onCrash(listener: (message: string, reload: Promise<ModelInfo | null>) => void): () => void {
    this.crashListeners.add(listener);
    return () => this.crashListeners.delete(listener);
  }

  /** Ends the worker abruptly, exactly as a crash would (tests use it to prove recovery). */
  async kill(): Promise<void> {
    await this.worker.terminate();
  }

  /** The engine thread's V8 heap limits (its young generation is kept small). */
  get heapLimits(): Worker['resourceLimits'] {
    return this.worker.resourceLimits;
  }

  async dispose(): Promise<void> {
    if (this.disposing) return;
    this.disposing = true;
    // A worker given up after crashes has exited already.
    if (this.stoppedBecause !== null) return;
    // Stop a running reply first: terminating a thread inside onnxruntime aborts the process.
    this.cancel();
    const done = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage({ type: 'dispose', id: this.nextId++ } satisfies ToWorker);
    const timer = setTimeout(() => void this.worker.terminate(), 10_000);
    await done;
    clearTimeout(timer);
  }
}

export function createEngine(options: WorkerEngineOptions): WorkerEngineClient {
  return new WorkerEngineClient(options);
}
