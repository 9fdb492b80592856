// A scripted EngineClient for tests of the session layer and the UI: no worker, no model.
// Each generate() call consumes the next script (a list of token texts plus how it ends);
// tokens arrive with a configurable delay so tests can cancel mid-stream.
import type {
  ChatTemplate,
  Dtype,
  DoneReason,
  GenerateEvent,
  GenerateParams,
  LoadOptions,
  LoadProgress,
  ModelInfo,
} from '../../src/engine/protocol.js';
import { EngineError, type EngineClient, type GenerationStream } from '../../src/engine/engineClient.js';

export interface FakeScript {
  tokens: string[];
  /** How the stream ends after the tokens; default 'eos'. A stop sequence seen in the text wins. */
  reason?: DoneReason;
  /** Message of a done event with reason 'error'. */
  error?: string;
  /** Ms between tokens; overrides the engine-wide delay. */
  delayMs?: number;
}

export interface FakeEngineOptions {
  /** Scripts consumed in order; when exhausted, `fallback` is used. */
  scripts?: FakeScript[];
  fallback?: FakeScript;
  delayMs?: number;
  contextLength?: number;
  modelId?: string;
  dtype?: Dtype;
  hasChatTemplate?: boolean;
  /** The tokenizer's chat template, for instruct-model tests. */
  chatTemplate?: ChatTemplate;
  /** Token counter; default: one token per 4 UTF-16 units, at least 1 for non-empty text. */
  countTokens?: (text: string) => number;
  /** Load fails with this error when set. */
  loadError?: EngineError;
  /** Loads wait until the test settles them through `pendingLoads`, in any order. */
  manualLoads?: boolean;
}

/** A load waiting for the test to settle it (FakeEngineOptions.manualLoads). */
export interface PendingLoad {
  modelRef: string;
  resolve(): void;
  fail(error: EngineError): void;
}

export interface GenerateCall {
  prompt: string;
  params: GenerateParams;
}

const roughCount = (text: string): number => (text.length === 0 ? 0 : Math.ceil(text.length / 4));

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export class FakeEngine implements EngineClient {
  model: ModelInfo | null = null;
  /** Every generate() call, for assertions on prompts and params. */
  readonly calls: GenerateCall[] = [];
  /** How many texts countTokens was asked about in total (cache tests). */
  countedTexts = 0;
  disposed = false;

  private readonly scripts: FakeScript[];
  /** Loads not settled yet, with manualLoads. */
  readonly pendingLoads: PendingLoad[] = [];
  private readonly crashListeners = new Set<(message: string, reload: Promise<ModelInfo | null>) => void>();
  private nextRequestId = 1;
  private activeRequest: number | null = null;
  private cancelledRequest: number | null = null;
  /** The request a crash ended, and the message it ended with. */
  private crashedRequest: { id: number; message: string } | null = null;
  private lastLoad: { modelRef: string; options: LoadOptions } | null = null;

  constructor(private readonly options: FakeEngineOptions = {}) {
    this.scripts = [...(options.scripts ?? [])];
    if (options.contextLength !== undefined) this.model = this.modelInfo(options.modelId ?? 'fake-gpt2');
  }

  /** Queues more scripts after construction. */
  script(...scripts: FakeScript[]): void {
    this.scripts.push(...scripts);
  }

  async load(modelRef: string, options: LoadOptions, onProgress?: (p: LoadProgress) => void): Promise<ModelInfo> {
    onProgress?.({ kind: 'loading', file: 'model.onnx' });
    if (this.options.manualLoads) {
      let entry: PendingLoad | null = null;
      try {
        await new Promise<void>((resolve, reject) => {
          entry = { modelRef, resolve, fail: reject };
          this.pendingLoads.push(entry);
        });
      } finally {
        this.pendingLoads.splice(this.pendingLoads.indexOf(entry!), 1);
      }
    }
    if (this.options.loadError) throw this.options.loadError;
    // Like the real engine: the model changes only once a load succeeds.
    this.model = { ...this.modelInfo(modelRef), dtype: options.dtype };
    this.lastLoad = { modelRef, options };
    return this.model;
  }

  async countTokens(texts: string[]): Promise<number[]> {
    this.countedTexts += texts.length;
    const count = this.options.countTokens ?? roughCount;
    return texts.map(count);
  }

  async tokenize(texts: string[]): Promise<number[][]> {
    const counts = await this.countTokens(texts);
    return counts.map((n) => Array.from({ length: n }, (_, i) => i));
  }

  generate(prompt: string, params: GenerateParams): GenerationStream {
    this.calls.push({ prompt, params });
    const requestId = this.nextRequestId++;
    const script = this.scripts.shift() ?? this.options.fallback ?? { tokens: [] };
    const delayMs = script.delayMs ?? this.options.delayMs ?? 0;
    async function* run(this: FakeEngine): AsyncGenerator<GenerateEvent> {
      if (this.model === null) {
        yield done('error', 0, 'no model loaded');
        return;
      }
      this.activeRequest = requestId;
      const started = Date.now();
      let text = '';
      let generated = 0;
      let reason: DoneReason = script.reason ?? 'eos';
      try {
        for (const token of script.tokens) {
          if (delayMs > 0) await sleep(delayMs); // the scripted pace of a model, not a wait
          if (this.crashedRequest?.id === requestId) {
            yield done('error', generated, this.crashedRequest.message);
            return;
          }
          if (this.cancelledRequest === requestId) {
            reason = 'cancelled';
            break;
          }
          if (generated >= params.maxNewTokens) {
            reason = 'length';
            break;
          }
          text += token;
          generated++;
          yield { type: 'token', text: token, tokenId: generated };
          if (params.stop?.some((s) => text.includes(s))) {
            reason = 'stop';
            break;
          }
        }
        // A cancel after the last token still ends the stream as cancelled, like the worker.
        if (this.cancelledRequest === requestId) reason = 'cancelled';
        const elapsed = Math.max(1, Date.now() - started);
        yield {
          type: 'done',
          reason,
          text,
          promptTokens: roughCount(prompt),
          generatedTokens: generated,
          ttftMs: delayMs,
          tokensPerSecond: (generated * 1000) / elapsed,
          ...(reason === 'error' ? { error: script.error ?? 'scripted error' } : {}),
        };
      } finally {
        if (this.activeRequest === requestId) this.activeRequest = null;
      }
    }
    function done(reason: DoneReason, generated: number, error?: string): GenerateEvent {
      return {
        type: 'done',
        reason,
        text: '',
        promptTokens: 0,
        generatedTokens: generated,
        ttftMs: 0,
        tokensPerSecond: 0,
        ...(error === undefined ? {} : { error }),
      };
    }
    const iterable = run.call(this);
    return { requestId, [Symbol.asyncIterator]: () => iterable };
  }

  cancel(): void {
    if (this.activeRequest !== null) this.cancelledRequest = this.activeRequest;
  }

  onCrash(listener: (message: string, reload: Promise<ModelInfo | null>) => void): () => void {
    this.crashListeners.add(listener);
    return () => this.crashListeners.delete(listener);
  }

  /**
   * A worker crash, as the real client handles it: the running reply ends with an error,
   * the model is gone, the listeners hear about it, and the last model is loaded again
   * (failing with `reloadError` when given).
   */
  crash(message = 'worker exited with code 1', reloadError?: EngineError): Promise<ModelInfo | null> {
    const full = `the engine crashed (${message}); restarting it`;
    if (this.activeRequest !== null) this.crashedRequest = { id: this.activeRequest, message: full };
    this.model = null;
    const last = this.lastLoad;
    const reload: Promise<ModelInfo | null> = reloadError
      ? Promise.reject(reloadError)
      : last
        ? this.load(last.modelRef, last.options)
        : Promise.resolve(null);
    reload.catch(() => undefined);
    for (const listener of this.crashListeners) listener(full, reload);
    return reload;
  }

  async dispose(): Promise<void> {
    this.disposed = true;
    this.model = null;
  }

  private modelInfo(modelId: string): ModelInfo {
    return {
      modelId,
      contextLength: this.options.contextLength ?? 1024,
      vocabSize: 50257,
      eosTokenIds: [50256],
      dtype: this.options.dtype ?? 'fp32',
      hasChatTemplate: this.options.hasChatTemplate ?? false,
      ...(this.options.chatTemplate ? { chatTemplate: this.options.chatTemplate } : {}),
      randomWeights: false,
    };
  }
}
