// From a validated request body to what the engine needs: sampling parameters, stops, the
// reply's length. Pure: no engine, no HTTP. Throws ApiError (400) naming the field.
import type { GenerationDefaults, SamplingParams } from '../engine/protocol.js';
import { badRequest } from './apiError.js';
import type { ChatCompletionRequest, CompletionRequest } from './schemas.js';

export interface RequestPlan {
  sampling: Omit<SamplingParams, 'maxNewTokens'>;
  /** The reply's length the client asked for; null: whatever the context leaves. */
  maxTokens: number | null;
  /** Without maxTokens: the model's own max_new_tokens, at most (what the context leaves still bounds it). */
  modelMaxTokens: number | null;
  stop: string[];
  stream: boolean;
  includeUsage: boolean;
}

/** Below this a temperature divides the logits into infinities: it means greedy, as 0 does. */
export const GREEDY_BELOW = 1e-5;
/** A repetition penalty divides logits by itself: below this it turns them into infinities. */
const PENALTY_RANGE = { min: 0.01, max: 10 } as const;

/**
 * Where the request says nothing: the model's own defaults (its generation_config.json), else
 * OpenAI's: temperature 1, top_p 1, no top-k, no penalty. A value in the request always wins.
 */
export function planRequest(body: ChatCompletionRequest | CompletionRequest, model: GenerationDefaults = {}): RequestPlan {
  if (body.n != null && body.n !== 1) throw badRequest(`n must be 1: one choice per request is supported (got ${body.n})`, 'n');
  for (const field of ['presence_penalty', 'frequency_penalty'] as const) {
    const v = body[field];
    if (v != null && v !== 0) throw badRequest(`${field} is not supported (only 0); use repetition_penalty`, field);
  }
  if ('logprobs' in body && body.logprobs) throw badRequest('logprobs is not supported', 'logprobs');
  if ('echo' in body && body.echo) throw badRequest('echo is not supported', 'echo');
  if ('best_of' in body && body.best_of != null && body.best_of !== 1) throw badRequest('best_of must be 1', 'best_of');
  const stream = body.stream === true;
  if (body.stream_options != null && !stream) {
    throw badRequest('stream_options is only allowed when stream is true', 'stream_options');
  }
  const penalty = body.repetition_penalty ?? model.repetitionPenalty ?? 1;
  if (penalty < PENALTY_RANGE.min || penalty > PENALTY_RANGE.max) {
    throw badRequest(`repetition_penalty must be from ${PENALTY_RANGE.min} to ${PENALTY_RANGE.max} (got ${penalty})`, 'repetition_penalty');
  }
  const temperature = body.temperature ?? model.temperature ?? 1;
  const maxTokens = ('max_completion_tokens' in body ? body.max_completion_tokens : null) ?? body.max_tokens ?? null;
  const stop = body.stop == null ? [] : typeof body.stop === 'string' ? [body.stop] : body.stop;
  return {
    sampling: {
      temperature: temperature < GREEDY_BELOW ? 0 : temperature,
      topP: body.top_p ?? model.topP ?? 1,
      // vLLM's -1 and 0 both mean "off".
      topK: Math.max(0, body.top_k ?? model.topK ?? 0),
      repetitionPenalty: penalty,
      seed: body.seed ?? null,
    },
    maxTokens,
    modelMaxTokens: model.maxNewTokens ?? null,
    stop,
    stream,
    includeUsage: stream && body.stream_options?.include_usage === true,
  };
}

/** The one prompt of a completion request: a string, or a list holding exactly one. */
export function completionPrompt(prompt: string | string[]): string {
  if (typeof prompt === 'string') return prompt;
  if (prompt.length !== 1) throw badRequest(`prompt must be one text; lists of ${prompt.length} prompts are not supported`, 'prompt');
  return prompt[0]!;
}

/**
 * The reply's length: what the client asked for, or all the context leaves. A request that
 * does not fit is refused with the counts, as vLLM does, never cut.
 */
export function replyLength(promptTokens: number, maxTokens: number | null, contextLength: number, param: string): number {
  const room = contextLength - promptTokens;
  if (maxTokens === null ? room < 1 : promptTokens + maxTokens > contextLength) {
    const asked =
      maxTokens === null
        ? ''
        : ` However, you requested ${promptTokens + maxTokens} tokens (${promptTokens} in the ${param}, ${maxTokens} in the completion).`;
    const have = maxTokens === null ? ` However, your ${param} hold ${promptTokens} tokens, which leaves no room for a completion.` : asked;
    throw badRequest(
      `This model's maximum context length is ${contextLength} tokens.${have} Please reduce the length of the ${param} or completion.`,
      param,
      'context_length_exceeded',
    );
  }
  return maxTokens ?? room;
}

/**
 * Refuses, without tokenizing it, a text that cannot fit the context: one token stands for at
 * most `maxTokenBytes` bytes, so more than contextLength of them cannot fit. Tokenizing
 * megabytes (one long word above all) would hold the tokenizer thread, which every request
 * shares, for tens of seconds. `maxTokenBytes` null: no such bound for this tokenizer.
 */
export function refuseUnfittable(text: string, contextLength: number, maxTokenBytes: number | null | undefined, param: string): void {
  if (maxTokenBytes == null) return;
  const limit = contextLength * maxTokenBytes;
  // UTF-8 takes at least one byte per UTF-16 unit: most texts are decided without counting.
  if (text.length <= limit / 3) return;
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes <= limit) return;
  throw badRequest(
    `This model's maximum context length is ${contextLength} tokens. However, your ${param} hold ${bytes} bytes, more than ${contextLength} tokens can hold (one token is at most ${maxTokenBytes} bytes). Please reduce the length of the ${param}.`,
    param,
    'context_length_exceeded',
  );
}

/** finish_reason as OpenAI names it; a reply cancelled by shutdown was cut short, as by its length. */
export function finishReason(reason: 'eos' | 'stop' | 'length' | 'cancelled'): 'stop' | 'length' {
  return reason === 'length' || reason === 'cancelled' ? 'length' : 'stop';
}
