import type { GenerateEvent, GenerateParams, LoadOptions, LoadProgress, ModelInfo } from './protocol.js';

/** A stream of one generation's events: `token`s then exactly one `done`. */
export interface GenerationStream extends AsyncIterable<GenerateEvent> {
  readonly requestId: number;
}

export class EngineError extends Error {
  constructor(
    readonly code: import('./protocol.js').ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'EngineError';
  }
}

/** One message of a chat turn's window, as an OpenAI-style chat API takes it. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/**
 * A chat turn's window as messages (the persona as a system message, then the turns the
 * window holds, ending with the user message to answer), handed to the engine beside the
 * prompt text. An engine whose model has its own chat format (a server's
 * /v1/chat/completions) sends these; an engine that runs the prompt text ignores them.
 */
export interface ChatRequest {
  messages: readonly ChatMessage[];
}

/**
 * What the UI and the session layer need from an engine. The real one runs the model
 * in a worker thread (WorkerEngineClient); tests use a scripted fake.
 */
export interface EngineClient {
  /** Loads a model (hub id, alias or local folder). Rejects with EngineError. */
  load(modelRef: string, options: LoadOptions, onProgress?: (p: LoadProgress) => void): Promise<ModelInfo>;
  /** The loaded model, or null. */
  readonly model: ModelInfo | null;
  /** Token counts of each text, with the loaded model's tokenizer, in one round trip. */
  countTokens(texts: string[]): Promise<number[]>;
  tokenize(texts: string[]): Promise<number[][]>;
  /**
   * Starts a generation. Errors are reported as a `done` event with reason 'error'. `chat`,
   * given for a chat turn, is the same window as messages (see ChatRequest).
   */
  generate(prompt: string, params: GenerateParams, chat?: ChatRequest): GenerationStream;
  /**
   * The tokens a chat turn's window takes as this engine will send it, when that is not
   * the count of `prompt` (a server that applies its own chat template to `messages`).
   * Engines that generate from the prompt text omit it: the window counts the text.
   */
  countChat?(prompt: string, messages: readonly ChatMessage[]): Promise<number>;
  /**
   * Stops a generation within one token; its stream ends with reason 'cancelled'. Without
   * an id, the latest one (the chat has one at a time); with one, exactly that request.
   */
  cancel(requestId?: number): void;
  /**
   * The ref a session should record for `ref`, when the engine knows more than the user
   * typed (`endpoint:NAME` gains the server's URL). Engines without such refs omit it.
   */
  canonicalRef?(ref: string): string;
  /**
   * Called when the worker dies unexpectedly; the client restarts it and reloads the model.
   * `reload` resolves with the model loaded again (null when none was loaded), or rejects
   * with an EngineError when the reload failed or the client gave up restarting.
   */
  onCrash(listener: (message: string, reload: Promise<ModelInfo | null>) => void): () => void;
  dispose(): Promise<void>;
}
