// The one message protocol shared by the UI thread (EngineClient) and the engine worker.
// Every message carries the request id it belongs to, so late events of a cancelled
// or superseded request can be recognised and dropped.

import type { Dtype } from '../hub/dtypes.js';
export { DTYPES, type Dtype } from '../hub/dtypes.js';

export interface LoadOptions {
  dtype: Dtype;
  /**
   * The dtype is the default, not the user's choice: the loader may take another one the
   * model has (see hub/dtypeFiles.ts), and ModelInfo.dtype says which it loaded.
   */
  dtypeIsDefault?: boolean;
  /** Forbid any remote access: only local folders and the transformers.js cache. */
  offline: boolean;
  /** Run a GPT-2 export as it is instead of Parley's graph converted from it. */
  noConvert?: boolean;
}

/** Which graph a loaded model runs on, for /stats and a notice. */
export interface GraphChoiceInfo {
  /** True when Parley's own graph, converted from the export, runs. */
  converted: boolean;
  /** One line: what runs and why (for a fallback, the reason). */
  note: string;
  /** True when this load did the conversion (the first load of the model). */
  convertedNow?: boolean;
}

export interface ChatTemplate {
  template: string;
  bosToken: string;
  eosToken: string;
  /** The tokenizer's special tokens as text (turn markers are found among them). */
  specialTokens?: string[];
}

/** The sampling values a model's generation_config.json asks for, in Parley's names. */
export interface GenerationDefaults {
  temperature?: number;
  topK?: number;
  topP?: number;
  repetitionPenalty?: number;
  maxNewTokens?: number;
}

/** What /show tells about a local model beyond the rest of ModelInfo. */
export interface ModelFacts {
  /** config.json's model_type (gpt2, llama, qwen2…), null when it does not say. */
  modelType: string | null;
  /** The model's parameter count; null when unknown. */
  parameters: number | null;
  /** Where the count comes from: config.json for an architecture Parley knows, else the graph's initializers. */
  parametersFrom: 'config' | 'graph';
  /** The ONNX file that runs, absolute. */
  onnxFile: string;
  /** The folder the model was loaded from (a hub model's cache folder). */
  folder: string;
}

export interface ModelInfo {
  /** The hub id or the absolute folder the model was loaded from. */
  modelId: string;
  /** n_positions: the most positions (prompt + reply) the model can see. */
  contextLength: number;
  vocabSize: number;
  eosTokenIds: number[];
  dtype: Dtype;
  /** True when the tokenizer ships a chat template (instruct models). */
  hasChatTemplate: boolean;
  /** The tokenizer's chat template (Jinja) and the special tokens it refers to, if it has one. */
  chatTemplate?: ChatTemplate | null;
  /** True for a folder Parley generated with random weights: its output is noise. */
  randomWeights: boolean;
  /** What the model is, when its folder says (the shipped demo model's config.json does). */
  description?: string;
  /** For GPT-2-family exports: Parley's converted graph or the export, and why. */
  graph?: GraphChoiceInfo;
  /** Whether onnxruntime's threads spin between parallel work, and why (local models). */
  threading?: { spinning: boolean; threads: number; why: string };
  /** Set when prompts run through another graph of the model (a q4 model's q8 file): that file. */
  prefillFile?: string;
  /**
   * The BOS as text when the tokenizer adds one to plain text (Llama's do): prompt formats
   * start every prompt with it, once. Absent or null when it adds none (GPT-2, Qwen2).
   */
  bosToken?: string | null;
  /**
   * How many generations the engine decodes together (continuous batching); 1 or absent:
   * one at a time, the rest wait their turn.
   */
  parallel?: number;
  /**
   * The most bytes of input text one token stands for: a text longer than contextLength times
   * this cannot fit, and can be refused without tokenizing it. Absent or null: no such bound.
   */
  maxTokenBytes?: number | null;
  /** Set when the model runs on an OpenAI-compatible server (--endpoint), not in this process. */
  endpoint?: EndpointInfo;
  /** generation_config.json's sampling values: the model's defaults, below the user's settings. */
  generationDefaults?: GenerationDefaults;
  /** The model's architecture, size, file and folder, for /show (local models). */
  facts?: ModelFacts;
}

export interface EndpointInfo {
  /** The server's base URL (…/v1), without credentials. */
  url: string;
  /** The name the server knows the model by. */
  name: string;
  /** Where the context length came from. */
  contextFrom: 'server' | 'flag' | 'default';
  /** Token counts from the server's POST /tokenize, or an estimate with a safety margin. */
  tokenCounts: 'server' | 'estimate';
  /**
   * How a chat window is counted: 'messages', by the server through its own chat template
   * (POST /tokenize with the messages, as vLLM and parley serve take it); 'rendered', Parley's
   * rendering of the window counted as `tokenCounts` says, plus a margin for the template.
   */
  windowCounts?: 'messages' | 'rendered';
}

export interface SamplingParams {
  /** 0 means greedy. */
  temperature: number;
  /** 0 disables top-k. */
  topK: number;
  topP: number;
  repetitionPenalty: number;
  maxNewTokens: number;
  /** A fixed seed makes sampling reproducible; null draws a fresh one. */
  seed: number | null;
}

export interface GenerateParams extends SamplingParams {
  /** The reply ends when the model starts writing one of these; the sequence is cut. */
  stop?: string[];
  /** Force at least this many tokens (benchmarks on random weights). */
  minNewTokens?: number;
  /**
   * false: prefill the whole prompt, reusing nothing the last request left in the KV cache
   * (the prompt format rewrites earlier text as turns are added). Default true.
   */
  reusePrefix?: boolean;
  /**
   * true: maxNewTokens is a ceiling the engine lowers to the room the prompt leaves in the
   * context (a server request without max_tokens: the caller does not know the prompt's
   * length). A prompt that leaves no room still fails, as 'over-limit'.
   */
  fitToContext?: boolean;
}

export type LoadProgress =
  | { kind: 'download'; file: string; loaded: number; total: number; bytesPerSecond?: number }
  | { kind: 'loading'; file?: string }
  | { kind: 'converting'; stage: 'reading' | 'building' | 'checking'; fraction: number };

export type DoneReason = 'eos' | 'length' | 'stop' | 'cancelled' | 'error';

export interface GenerationStats {
  reason: DoneReason;
  promptTokens: number;
  generatedTokens: number;
  ttftMs: number;
  tokensPerSecond: number;
  /** How many of the prompt tokens came from the previous request's KV cache (prefix cache on). */
  reusedTokens?: number;
  /** Set when reason is 'error'. */
  error?: string;
  /**
   * Set with some errors: 'over-limit' when the prompt and the reply do not fit the context.
   * Nothing was generated, and promptTokens holds the prompt's count.
   */
  errorCode?: ErrorCode;
}

/**
 * `text` of a token event is the new visible text (possibly empty while a possible stop
 * sequence or a split UTF-8 character is held back). A last event with tokenId -1 releases
 * held-back text when the reply ends for another reason. All `text`s concatenate to `done.text`.
 */
export type GenerateEvent = { type: 'token'; text: string; tokenId: number } | ({ type: 'done'; text: string } & GenerationStats);

export type ErrorCode =
  | 'model-not-found'
  | 'model-file-missing'
  | 'model-corrupt'
  | 'unsupported'
  | 'network'
  | 'over-limit'
  | 'no-model'
  | 'busy'
  | 'crashed'
  | 'internal'
  /** An OpenAI-compatible server (--endpoint) refused or could not be reached. */
  | 'remote'
  /** The model cache could not take a download (full disk, a file size limit, no write access). */
  | 'disk-full';

// ---- UI thread -> worker -------------------------------------------------------
export type ToWorker =
  | { type: 'load'; id: number; modelRef: string; options: LoadOptions }
  | { type: 'tokenize'; id: number; texts: string[] }
  | { type: 'count'; id: number; texts: string[] }
  | { type: 'generate'; id: number; prompt: string; params: GenerateParams }
  /** Stops generation `id` (batched engines, where several run at once; the flag covers the rest). */
  | { type: 'cancel'; id: number }
  | { type: 'dispose'; id: number };

// ---- worker -> UI thread -------------------------------------------------------
export type FromWorker =
  | { type: 'progress'; id: number; progress: LoadProgress }
  | { type: 'ready'; id: number; info: ModelInfo }
  | { type: 'tokens'; id: number; ids: number[][] }
  | { type: 'counts'; id: number; counts: number[] }
  | { type: 'token'; id: number; text: string; tokenId: number }
  /** Token messages that came close together, sent as one (possibly of several generations), in order. */
  | { type: 'token-burst'; tokens: { type: 'token'; id: number; text: string; tokenId: number }[] }
  | ({ type: 'done'; id: number; text: string } & GenerationStats)
  | { type: 'error'; id: number; code: ErrorCode; message: string }
  | { type: 'disposed'; id: number };

/** Data handed to the worker at start-up. */
export interface WorkerData {
  /** Int32Array view target: slot 0 holds the id of the generation to cancel. */
  cancelFlag: SharedArrayBuffer;
  /** Where hub downloads and the generated demo model are cached. */
  cacheDir: string;
  /** Keep the KV cache between requests and reuse its longest common token prefix. */
  prefixCache: boolean;
  /** Decode up to this many generations together (continuous batching) when the graph allows; absent or 1: one at a time. */
  batch?: number;
  /** Hold a reply's tokens up to this long and send them as one message; 0: each token as it is made. */
  tokenBurstMs: number;
}
