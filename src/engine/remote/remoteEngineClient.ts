// An EngineClient over any OpenAI-compatible server (vLLM, llama.cpp's server, TGI, ollama,
// parley serve), through the official `openai` package. A chat turn's window goes as its
// messages to POST /v1/chat/completions, so the server formats them with the model's own
// chat template; a raw prompt (no messages) goes to POST /v1/completions. Both stream, and
// stops are cut here too, so the chat sees what the worker engine would give it. Timing is
// measured here, on the client: TTFT includes the network.
import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';
import { EngineError, type ChatMessage, type ChatRequest, type EngineClient, type GenerationStream } from '../engineClient.js';
import type { DoneReason, EndpointInfo, GenerateEvent, GenerateParams, LoadOptions, LoadProgress, ModelInfo } from '../protocol.js';
import { ReplyText } from '../reply/replyText.js';
import { chatPieces, lacksChatTemplate, textPieces, type Piece } from './replyPieces.js';
import { ENDPOINT_PREFIX, parseEndpointRef } from './endpointRef.js';
import {
  estimateTokens,
  probeMessageCounts,
  probeTokenize,
  propsContextLength,
  serverCountMessages,
  serverRoot,
  serverTokenize,
  templateMargin,
  type ServerAccess,
  type TokenizeStyle,
} from './serverExtras.js';
import { errorLine, errorMessage } from '../../errors.js';

/** Longest wait for the server to start answering a request (its response headers). */
export const CONNECT_TIMEOUT_MS = 15_000;
/** Longest silence while a reply streams. */
export const READ_TIMEOUT_MS = 60_000;
/** Context length when the server does not say and --context was not given. */
export const DEFAULT_REMOTE_CONTEXT = 2048;
/** Most stop sequences OpenAI's API takes; the rest are cut on this side only. */
const MAX_SERVER_STOPS = 4;
/** Window counts remembered: the context meter and a turn count the same window again. */
const WINDOW_COUNTS_KEPT = 32;

export interface RemoteEngineOptions {
  url: string;
  apiKey: string | null;
  /** --context: the context length when the server does not report one. */
  contextLength?: number | null;
  connectTimeoutMs?: number;
  readTimeoutMs?: number;
}

export class RemoteEngineClient implements EngineClient {
  model: ModelInfo | null = null;
  private readonly client: OpenAI;
  private readonly access: ServerAccess;
  private readonly host: string;
  private tokenizeStyle: TokenizeStyle | null = null;
  private readonly windowCounts = new Map<string, number>();
  /** The server refused a chat for want of a chat template: chat turns go as raw prompts. */
  private noChatTemplate = false;
  private nextId = 1;
  private readonly running = new Map<number, AbortController>();
  private lastId = 0;

  constructor(private readonly options: RemoteEngineOptions) {
    this.client = new OpenAI({
      baseURL: options.url,
      // The openai package insists on a key; servers without auth ignore it.
      apiKey: options.apiKey ?? 'none',
      maxRetries: 0,
      timeout: options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
    });
    this.host = new URL(options.url).host;
    this.access = {
      root: serverRoot(options.url),
      headers: options.apiKey ? { authorization: `Bearer ${options.apiKey}` } : {},
      timeoutMs: options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
    };
  }

  get url(): string {
    return this.options.url;
  }

  async load(modelRef: string, options: LoadOptions, onProgress?: (p: LoadProgress) => void): Promise<ModelInfo> {
    const name = modelRef.startsWith(ENDPOINT_PREFIX) ? parseEndpointRef(modelRef).name : modelRef;
    onProgress?.({ kind: 'loading', file: `asking ${this.host}` });
    let listed: (OpenAI.Models.Model & { max_model_len?: unknown })[];
    try {
      listed = [];
      for await (const m of this.client.models.list()) listed.push(m);
    } catch (error) {
      throw new EngineError('remote', this.describe(error));
    }
    const entry = listed.find((m) => m.id === name);
    if (!entry && listed.length > 0) {
      const names = listed
        .slice(0, 5)
        .map((m) => m.id)
        .join(', ');
      throw new EngineError('model-not-found', `${this.host} has no model "${name}" (it serves: ${names})`);
    }
    const reported =
      typeof entry?.max_model_len === 'number' && entry.max_model_len > 0 ? entry.max_model_len : await propsContextLength(this.access);
    const contextFrom: EndpointInfo['contextFrom'] = reported !== null ? 'server' : this.options.contextLength ? 'flag' : 'default';
    this.tokenizeStyle = await probeTokenize(this.access, name);
    const countsMessages = await probeMessageCounts(this.access, name);
    this.windowCounts.clear();
    this.noChatTemplate = false;
    this.model = {
      modelId: `${ENDPOINT_PREFIX}${name}`,
      contextLength: reported ?? this.options.contextLength ?? DEFAULT_REMOTE_CONTEXT,
      vocabSize: 0,
      eosTokenIds: [],
      dtype: options.dtype,
      hasChatTemplate: false,
      randomWeights: false,
      endpoint: {
        url: this.options.url,
        name,
        contextFrom,
        tokenCounts: this.tokenizeStyle ? 'server' : 'estimate',
        windowCounts: countsMessages ? 'messages' : 'rendered',
      },
    };
    return this.model;
  }

  async countTokens(texts: string[]): Promise<number[]> {
    if (!this.tokenizeStyle) return texts.map(estimateTokens);
    return (await this.tokenize(texts)).map((ids) => ids.length);
  }

  async tokenize(texts: string[]): Promise<number[][]> {
    const model = this.requireModel();
    const style = this.tokenizeStyle;
    if (!style) throw new EngineError('remote', `${this.host} offers no tokenizer (POST /tokenize)`);
    try {
      return await Promise.all(texts.map((t) => serverTokenize(this.access, style, model.endpoint!.name, t)));
    } catch (error) {
      throw new EngineError('remote', `${this.host}: ${errorMessage(error)}`);
    }
  }

  /**
   * A chat window as the server will see it: its messages through the server's template where
   * the server counts them, else Parley's rendering plus a margin for that template.
   */
  async countChat(prompt: string, messages: readonly ChatMessage[]): Promise<number> {
    const model = this.requireModel();
    const key = JSON.stringify([prompt, messages]);
    const known = this.windowCounts.get(key);
    if (known !== undefined) return known;
    let count: number;
    if (model.endpoint.windowCounts === 'messages') {
      try {
        count = await serverCountMessages(this.access, model.endpoint.name, messages);
      } catch (error) {
        throw new EngineError('remote', `${this.host}: ${errorMessage(error)}`);
      }
    } else {
      count = ((await this.countTokens([prompt]))[0] ?? 0) + templateMargin(messages.length);
    }
    this.windowCounts.set(key, count);
    for (const oldest of this.windowCounts.keys()) {
      if (this.windowCounts.size <= WINDOW_COUNTS_KEPT) break;
      this.windowCounts.delete(oldest);
    }
    return count;
  }

  generate(prompt: string, params: GenerateParams, chat?: ChatRequest): GenerationStream {
    const id = this.nextId++;
    this.lastId = id;
    const controller = new AbortController();
    this.running.set(id, controller);
    const run = this.run(id, controller, prompt, params, chat);
    return { requestId: id, [Symbol.asyncIterator]: () => run };
  }

  cancel(requestId?: number): void {
    this.running.get(requestId ?? this.lastId)?.abort();
  }

  onCrash(): () => void {
    // Nothing here can crash the way a worker does; a server's failures end the request.
    return () => undefined;
  }

  async dispose(): Promise<void> {
    for (const controller of this.running.values()) controller.abort();
    this.running.clear();
  }

  private requireModel(): ModelInfo & { endpoint: EndpointInfo } {
    if (!this.model?.endpoint) throw new EngineError('no-model', 'no model is loaded');
    return this.model as ModelInfo & { endpoint: EndpointInfo };
  }

  private async *run(
    id: number,
    controller: AbortController,
    prompt: string,
    params: GenerateParams,
    chat: ChatRequest | undefined,
  ): AsyncGenerator<GenerateEvent> {
    const started = performance.now();
    const reply = new ReplyText(params.stop ?? []);
    let raw = '';
    let chunks = 0;
    let firstAt = 0;
    let lastAt = 0;
    let finish: string | null = null;
    let usage: { prompt_tokens: number; completion_tokens: number } | null = null;
    let error: string | null = null;
    let readTimedOut = false;
    let idle: NodeJS.Timeout | null = null;
    const readTimeout = this.options.readTimeoutMs ?? READ_TIMEOUT_MS;
    const touch = (): void => {
      if (idle) clearTimeout(idle);
      idle = setTimeout(() => {
        readTimedOut = true;
        controller.abort();
      }, readTimeout);
    };
    try {
      const model = this.requireModel();
      const common = {
        model: model.endpoint.name,
        // max_tokens, not max_completion_tokens: the name every server of this kind knows.
        max_tokens: params.maxNewTokens,
        temperature: params.temperature,
        top_p: params.topP,
        ...(params.seed !== null ? { seed: params.seed } : {}),
        ...(params.stop && params.stop.length > 0 ? { stop: params.stop.slice(0, MAX_SERVER_STOPS) } : {}),
        // vLLM's extensions, which llama.cpp's server and parley serve take too.
        ...(params.topK > 0 ? { top_k: params.topK } : {}),
        ...(params.repetitionPenalty !== 1 ? { repetition_penalty: params.repetitionPenalty } : {}),
        stream: true as const,
        stream_options: { include_usage: true },
      };
      const continuation = async (): Promise<AsyncIterable<Piece>> =>
        textPieces(
          await this.client.completions.create({ ...common, prompt } as OpenAI.Completions.CompletionCreateParamsStreaming, {
            signal: controller.signal,
          }),
        );
      let pieces: AsyncIterable<Piece>;
      if (chat && !this.noChatTemplate) {
        try {
          pieces = chatPieces(
            await this.client.chat.completions.create(
              { ...common, messages: [...chat.messages] } as OpenAI.Chat.ChatCompletionCreateParamsStreaming,
              { signal: controller.signal },
            ),
          );
        } catch (e) {
          if (!lacksChatTemplate(e)) throw e;
          // A base model the server has no chat template for (vLLM refuses to guess one):
          // Parley's own rendering of the window, as a raw continuation, from now on.
          this.noChatTemplate = true;
          pieces = await continuation();
        }
      } else {
        pieces = await continuation();
      }
      touch();
      for await (const piece of pieces) {
        touch();
        if (piece.usage) usage = piece.usage;
        if (piece.finish) finish = piece.finish;
        if (!piece.text) continue;
        raw += piece.text;
        lastAt = performance.now();
        if (chunks++ === 0) firstAt = lastAt;
        yield { type: 'token', text: reply.update(raw), tokenId: chunks - 1 };
        if (reply.hitStop) break;
      }
    } catch (e) {
      if (!controller.signal.aborted) error = this.describe(e);
    } finally {
      if (idle) clearTimeout(idle);
      this.running.delete(id);
    }
    // The stream ends quietly when aborted, so a read timeout is told apart here.
    if (readTimedOut) error = `${this.host} sent nothing for ${readTimeout / 1000} s`;
    if (!reply.hitStop && error === null) {
      const rest = reply.finish(raw);
      if (rest) yield { type: 'token', text: rest, tokenId: -1 };
    }
    const reason: DoneReason =
      error !== null ? 'error' : reply.hitStop ? 'stop' : controller.signal.aborted ? 'cancelled' : finish === 'length' ? 'length' : 'eos';
    const generated = usage?.completion_tokens ?? chunks;
    const seconds = (lastAt - firstAt) / 1000;
    yield {
      type: 'done',
      reason,
      text: reply.text,
      promptTokens: usage?.prompt_tokens ?? 0,
      generatedTokens: generated,
      ttftMs: chunks > 0 ? firstAt - started : 0,
      tokensPerSecond: generated > 1 && seconds > 0 ? (generated - 1) / seconds : 0,
      ...(error !== null ? { error } : {}),
    };
  }

  /** One line for any failure talking to the server. */
  private describe(error: unknown): string {
    if (error instanceof APIConnectionTimeoutError) {
      return `${this.host} did not answer within ${(this.options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS) / 1000} s`;
    }
    if (error instanceof APIConnectionError) {
      const cause = error.cause as { cause?: { code?: string }; message?: string } | undefined;
      return `cannot reach ${this.host}${cause?.cause?.code ? ` (${cause.cause.code})` : ''}`;
    }
    if (error instanceof APIError && error.status !== undefined) {
      const detail = (error.error as { message?: unknown } | undefined)?.message;
      const message = typeof detail === 'string' ? detail : error.message;
      return `${this.host} answered ${error.status}: ${message.split('\n')[0]}`;
    }
    return `${this.host}: ${errorLine(error)}`;
  }
}
