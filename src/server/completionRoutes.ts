// POST /v1/chat/completions and /v1/completions: one flow for both. Refuse a prompt too many
// bytes long to fit, wait for a slot, generate, refuse what does not fit (the engine counts
// the prompt as it tokenizes it, before generating), answer whole or as server-sent events.
// A client that leaves cancels its generation (within a token) or its place in the queue. A
// generation cut short by shutdown ends as one cut by its length: a final chunk and [DONE],
// or a whole response.
import { randomUUID } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { EngineClient } from '../engine/engineClient.js';
import type { GenerateEvent } from '../engine/protocol.js';
import type { Admission } from './admission.js';
import { ApiError } from './apiError.js';
import { chatPrompt, chatStops } from './chatPrompt.js';
import { completionPrompt, finishReason, planRequest, refuseUnfittable, replyLength, type RequestPlan } from './requestParams.js';
import { chatCompletionBody, completionBody } from './schemas.js';
import { namesModel, type ServedModel } from './servedModel.js';
import { EventStream } from './sse.js';
import { TrimmedReply } from './trimmedReply.js';

export interface ServeContext {
  engine: EngineClient;
  model: ServedModel;
  admission: Admission;
  /** Token counting outside a generation (POST /tokenize): one text at a time in the tokenizer thread, the rest queued. */
  tokenizing: Admission;
  /** Generations in flight, so that shutting down can cancel them. */
  inflight: Set<AbortController>;
  /** The reply's token count so far, and its engine-side timing once it is done. */
  recordTokens(request: FastifyRequest, tokens: number, done?: Done): void;
}

interface Job {
  kind: 'chat' | 'text';
  prompt: string;
  promptParam: 'messages' | 'prompt';
  plan: RequestPlan;
  stops: string[];
}

type Done = Extract<GenerateEvent, { type: 'done' }>;

export function checkModel(model: ServedModel, name: string): void {
  if (!namesModel(model, name)) {
    throw new ApiError(
      404,
      `The model \`${name}\` does not exist; this server serves \`${model.id}\``,
      'not_found_error',
      'model',
      'model_not_found',
    );
  }
}

export function registerCompletionRoutes(server: FastifyInstance, ctx: ServeContext): void {
  const app = server.withTypeProvider<TypeBoxTypeProvider>();
  app.post('/v1/chat/completions', { schema: { body: chatCompletionBody } }, async (request, reply) => {
    const { body } = request;
    checkModel(ctx.model, body.model);
    const plan = planRequest(body, ctx.model.info.generationDefaults);
    const { format } = ctx.model;
    const prompt = chatPrompt(format, body.messages);
    return serve(ctx, request, reply, { kind: 'chat', prompt, promptParam: 'messages', plan, stops: chatStops(format, plan.stop) });
  });

  app.post('/v1/completions', { schema: { body: completionBody } }, async (request, reply) => {
    const { body } = request;
    checkModel(ctx.model, body.model);
    const plan = planRequest(body, ctx.model.info.generationDefaults);
    const prompt = completionPrompt(body.prompt);
    return serve(ctx, request, reply, { kind: 'text', prompt, promptParam: 'prompt', plan, stops: plan.stop });
  });
}

/** Runs `work` once `admission` gives it a slot; a client that leaves first leaves the queue. */
export async function withSlot<T>(admission: Admission, signal: AbortSignal | undefined, work: () => Promise<T>): Promise<T> {
  const release = await admission.acquire(signal);
  try {
    return await work();
  } finally {
    release();
  }
}

/** Aborted when the client leaves before its response is complete. */
export function clientGone(reply: FastifyReply): AbortController {
  const abort = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) abort.abort();
  });
  return abort;
}

async function serve(ctx: ServeContext, request: FastifyRequest, reply: FastifyReply, job: Job): Promise<unknown> {
  const { contextLength, maxTokenBytes } = ctx.model.info;
  const { maxTokens } = job.plan;
  refuseUnfittable(job.prompt, contextLength, maxTokenBytes, job.promptParam);
  const abort = clientGone(reply);
  // The engine tokenizes the prompt anyway and refuses one that does not fit before it
  // generates anything, reporting the count (see tooLong); counting here first would cost a
  // round trip on every request. Only a reply that cannot fit whatever the prompt is
  // counted here, so that its 400 comes at once, not after a wait in the queue.
  if (maxTokens !== null && maxTokens >= contextLength) {
    const [counted = 0] = await withSlot(ctx.tokenizing, abort.signal, () => ctx.engine.countTokens([job.prompt]));
    replyLength(Math.max(1, counted), maxTokens, contextLength, job.promptParam);
  }

  ctx.inflight.add(abort);
  try {
    const release = await ctx.admission.acquire(abort.signal);
    try {
      const generation = ctx.engine.generate(job.prompt, {
        ...job.plan.sampling,
        // Without max_tokens, whatever the context leaves after the prompt (the model's own max_new_tokens at most).
        maxNewTokens: maxTokens ?? job.plan.modelMaxTokens ?? contextLength,
        fitToContext: maxTokens === null,
        stop: job.stops,
        // A chat template that rewrites earlier text as turns are added: nothing to reuse.
        ...(job.kind === 'chat' && !ctx.model.format.prefixStable ? { reusePrefix: false } : {}),
      });
      const cancel = (): void => ctx.engine.cancel(generation.requestId);
      abort.signal.addEventListener('abort', cancel, { once: true });
      if (abort.signal.aborted) cancel();
      const stream = await tooLong(generation, (promptTokens) => replyLength(promptTokens, maxTokens, contextLength, job.promptParam));
      const meta = {
        id: `${job.kind === 'chat' ? 'chatcmpl' : 'cmpl'}-${randomUUID()}`,
        created: Math.floor(Date.now() / 1000),
        model: ctx.model.id,
      };
      if (job.plan.stream) {
        await streamReply(ctx, request, reply, job, stream, meta);
        return undefined;
      }
      return await wholeReply(ctx, request, job, stream, meta);
    } finally {
      release();
    }
  } finally {
    ctx.inflight.delete(abort);
  }
}

/**
 * The generation's events, once its first one shows the prompt fits: an engine that finds
 * the prompt and reply too long for the context ends at once with an 'over-limit' error and
 * the prompt's count, and `refuse` turns that into the 400 before a byte of reply is sent.
 */
async function tooLong(
  stream: AsyncIterable<GenerateEvent>,
  refuse: (promptTokens: number) => void,
): Promise<AsyncIterable<GenerateEvent>> {
  const iterator = stream[Symbol.asyncIterator]();
  const first = await iterator.next();
  if (!first.done && first.value.type === 'done' && first.value.errorCode === 'over-limit') {
    // The engine feeds an empty prompt as <|endoftext|>: one position.
    refuse(Math.max(1, first.value.promptTokens));
  }
  async function* events(): AsyncGenerator<GenerateEvent> {
    if (first.done) return;
    yield first.value;
    for (;;) {
      const next = await iterator.next();
      if (next.done) return;
      yield next.value;
    }
  }
  return events();
}

interface Meta {
  id: string;
  created: number;
  model: string;
}

const usageOf = (done: Done) => ({
  prompt_tokens: done.promptTokens,
  completion_tokens: done.generatedTokens,
  total_tokens: done.promptTokens + done.generatedTokens,
  // OpenAI's (and vLLM's) name for the prompt tokens the prefix cache served.
  ...(done.reusedTokens !== undefined ? { prompt_tokens_details: { cached_tokens: done.reusedTokens } } : {}),
});

async function wholeReply(ctx: ServeContext, request: FastifyRequest, job: Job, stream: AsyncIterable<GenerateEvent>, meta: Meta) {
  let done: Done | null = null;
  for await (const event of stream) if (event.type === 'done') done = event;
  if (!done) throw new ApiError(500, 'the engine ended the reply without a result', 'server_error');
  ctx.recordTokens(request, done.generatedTokens, done);
  if (done.reason === 'error') throw new ApiError(500, done.error ?? 'generation failed', 'server_error');
  const finish = finishReason(done.reason);
  if (job.kind === 'chat') {
    return {
      ...meta,
      object: 'chat.completion',
      choices: [{ index: 0, message: { role: 'assistant', content: done.text.trim() }, logprobs: null, finish_reason: finish }],
      usage: usageOf(done),
    };
  }
  return {
    ...meta,
    object: 'text_completion',
    choices: [{ index: 0, text: done.text, logprobs: null, finish_reason: finish }],
    usage: usageOf(done),
  };
}

async function streamReply(
  ctx: ServeContext,
  request: FastifyRequest,
  reply: FastifyReply,
  job: Job,
  stream: AsyncIterable<GenerateEvent>,
  meta: Meta,
): Promise<void> {
  reply.hijack();
  const sse = new EventStream(reply.raw);
  const usageField = job.plan.includeUsage ? { usage: null } : {};
  const chunk = (text: string | null, finish: 'stop' | 'length' | null): unknown =>
    job.kind === 'chat'
      ? {
          ...meta,
          object: 'chat.completion.chunk',
          choices: [{ index: 0, delta: text === null ? {} : { content: text }, logprobs: null, finish_reason: finish }],
          ...usageField,
        }
      : {
          ...meta,
          object: 'text_completion',
          choices: [{ index: 0, text: text ?? '', logprobs: null, finish_reason: finish }],
          ...usageField,
        };
  if (job.kind === 'chat') {
    sse.send({
      ...meta,
      object: 'chat.completion.chunk',
      choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }],
      ...usageField,
    });
  }
  const trim = job.kind === 'chat' ? new TrimmedReply() : null;
  let done: Done | null = null;
  let tokens = 0;
  for await (const event of stream) {
    if (event.type === 'done') {
      done = event;
      continue;
    }
    if (event.tokenId >= 0) ctx.recordTokens(request, ++tokens);
    const text = trim ? trim.push(event.text) : event.text;
    if (text !== '') sse.send(chunk(text, null));
  }
  ctx.recordTokens(request, done?.generatedTokens ?? 0, done ?? undefined);
  if (!done || done.reason === 'error') {
    sse.send(new ApiError(500, done?.error ?? 'the engine ended the reply without a result', 'server_error').body());
  } else {
    sse.send(chunk(null, finishReason(done.reason)));
    if (job.plan.includeUsage) {
      sse.send({ ...meta, object: job.kind === 'chat' ? 'chat.completion.chunk' : 'text_completion', choices: [], usage: usageOf(done) });
    }
  }
  sse.end();
}
