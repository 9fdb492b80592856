// From a validated request body to what the engine needs: sampling parameters, stops, the
// reply's length. Pure: no engine, no HTTP. Throws ApiError (400) naming the field.
import type { SamplingParams } from '../engine/protocol.js';
import { badRequest } from './apiError.js';
import type { ChatCompletionRequest, CompletionRequest } from './schemas.js';

export interface RequestPlan {
  sampling: Omit<SamplingParams, 'maxNewTokens'>;
  /** The reply's length the client asked for; null: whatever the context leaves. */
  maxTokens: number | null;
  stop: string[];
  stream: boolean;
  includeUsage: boolean;
}

/** OpenAI's defaults where the request says nothing: temperature 1, top_p 1, no top-k, no penalty. */
export function planRequest(body: ChatCompletionRequest | CompletionRequest): RequestPlan {
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
  const maxTokens = ('max_completion_tokens' in body ? body.max_completion_tokens : null) ?? body.max_tokens ?? null;
  const stop = body.stop == null ? [] : typeof body.stop === 'string' ? [body.stop] : body.stop;
  return {
    sampling: {
      temperature: body.temperature ?? 1,
      topP: body.top_p ?? 1,
      // vLLM's -1 and 0 both mean "off".
      topK: Math.max(0, body.top_k ?? 0),
      repetitionPenalty: body.repetition_penalty ?? 1,
      seed: body.seed ?? null,
    },
    maxTokens,
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
    const asked = maxTokens === null ? '' : ` However, you requested ${promptTokens + maxTokens} tokens (${promptTokens} in the ${param}, ${maxTokens} in the completion).`;
    const have = maxTokens === null ? ` However, your ${param} hold ${promptTokens} tokens, which leaves no room for a completion.` : asked;
    throw badRequest(
      `This model's maximum context length is ${contextLength} tokens.${have} Please reduce the length of the ${param} or completion.`,
      param,
      'context_length_exceeded',
    );
  }
  return maxTokens ?? room;
}

/** finish_reason as OpenAI names it. */
export function finishReason(reason: 'eos' | 'stop' | 'length'): 'stop' | 'length' {
  return reason === 'length' ? 'length' : 'stop';
}
