// The chat's one engine, whichever way the model runs: `endpoint:` refs go to an
// OpenAI-compatible server (RemoteEngineClient), every other ref to the worker engine,
// started only when first needed. A failed switch keeps the model in use, as the worker does.
import { EngineError, type ChatMessage, type ChatRequest, type EngineClient, type GenerationStream } from '../engineClient.js';
import type { GenerateEvent, GenerateParams, LoadOptions, LoadProgress, ModelInfo } from '../protocol.js';
import { endpointRef, isEndpointRef, normaliseEndpointUrl, parseEndpointRef } from './endpointRef.js';
import { RemoteEngineClient, type RemoteEngineOptions } from './remoteEngineClient.js';

export interface RoutingEngineOptions {
  /** Starts the local engine (the worker) the first time a local model is loaded. */
  createLocal(): EngineClient;
  /** --endpoint: the server `endpoint:NAME` refers to until a ref names another. */
  endpoint: string | null;
  apiKey: string | null;
  /** --context, for servers that do not report their context length. */
  contextLength: number | null;
  /** Tests shorten these. */
  timeouts?: Pick<RemoteEngineOptions, 'connectTimeoutMs' | 'readTimeoutMs'>;
}

export class RoutingEngineClient implements EngineClient {
  private local: EngineClient | null = null;
  private remote: RemoteEngineClient | null = null;
  private active: EngineClient | null = null;
  private endpoint: string | null;
  private readonly crashListeners = new Set<(message: string, reload: Promise<ModelInfo | null>) => void>();

  constructor(private readonly options: RoutingEngineOptions) {
    this.endpoint = options.endpoint === null ? null : normaliseEndpointUrl(options.endpoint);
  }

  get model(): ModelInfo | null {
    return this.active?.model ?? null;
  }

  /** `endpoint:NAME` as a session should record it: with the server's URL. Other refs unchanged. */
  canonicalRef(ref: string): string {
    if (!isEndpointRef(ref)) return ref;
    const { name, url } = parseEndpointRef(ref);
    const server = url ?? this.endpoint;
    return server === null ? ref : endpointRef(name, server);
  }

  async load(modelRef: string, options: LoadOptions, onProgress?: (p: LoadProgress) => void): Promise<ModelInfo> {
    if (!isEndpointRef(modelRef)) {
      this.local ??= this.startLocal();
      const info = await this.local.load(modelRef, options, onProgress);
      this.active = this.local;
      return info;
    }
    const { name, url } = parseEndpointRef(modelRef);
    const server = url ?? this.endpoint;
    if (server === null) {
      throw new EngineError('remote', 'no endpoint to ask: start parley with --endpoint URL, or name one as endpoint:NAME@URL');
    }
    if (name === '') throw new EngineError('model-not-found', 'name the model: endpoint:NAME');
    const remote =
      this.remote?.url === server
        ? this.remote
        : new RemoteEngineClient({
            url: server,
            apiKey: this.options.apiKey,
            contextLength: this.options.contextLength,
            ...this.options.timeouts,
          });
    const info = await remote.load(name, options, onProgress);
    if (remote !== this.remote) await this.remote?.dispose();
    this.remote = remote;
    this.endpoint = server;
    this.active = remote;
    return info;
  }

  countTokens(texts: string[]): Promise<number[]> {
    return this.require().countTokens(texts);
  }

  tokenize(texts: string[]): Promise<number[][]> {
    return this.require().tokenize(texts);
  }

  /** The engine in use's own window count, when it has one (a server); else none: the text is counted. */
  get countChat(): ((prompt: string, messages: readonly ChatMessage[]) => Promise<number>) | undefined {
    const active = this.active;
    return active?.countChat ? (prompt, messages) => active.countChat!(prompt, messages) : undefined;
  }

  generate(prompt: string, params: GenerateParams, chat?: ChatRequest): GenerationStream {
    if (this.active === null) return failedStream('no model is loaded');
    return this.active.generate(prompt, params, chat);
  }

  cancel(requestId?: number): void {
    this.active?.cancel(requestId);
  }

  onCrash(listener: (message: string, reload: Promise<ModelInfo | null>) => void): () => void {
    this.crashListeners.add(listener);
    return () => this.crashListeners.delete(listener);
  }

  async dispose(): Promise<void> {
    await Promise.all([this.local?.dispose(), this.remote?.dispose()]);
  }

  private startLocal(): EngineClient {
    const local = this.options.createLocal();
    local.onCrash((message, reload) => {
      for (const l of this.crashListeners) l(message, reload);
    });
    return local;
  }

  private require(): EngineClient {
    if (this.active === null) throw new EngineError('no-model', 'no model is loaded');
    return this.active;
  }
}

/** A stream that only reports `error`, as the engines report failures. */
function failedStream(error: string): GenerationStream {
  async function* events(): AsyncGenerator<GenerateEvent> {
    yield { type: 'done', reason: 'error', error, text: '', promptTokens: 0, generatedTokens: 0, ttftMs: 0, tokensPerSecond: 0 };
  }
  return { requestId: 0, [Symbol.asyncIterator]: events };
}
