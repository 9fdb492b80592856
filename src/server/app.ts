// The HTTP face of Parley's engine: OpenAI's routes on Fastify (routing, JSON-schema
// validation, body limits), every error in OpenAI's shape, one log line per request.
import { timingSafeEqual, createHash } from 'node:crypto';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { EngineClient } from '../engine/engineClient.js';
import { Admission } from './admission.js';
import { ApiError, badRequest, typeForStatus } from './apiError.js';
import { checkModel, registerCompletionRoutes, type ServeContext } from './completionRoutes.js';
import { chatPrompt } from './chatPrompt.js';
import { tokenizeBody } from './schemas.js';
import type { ServedModel } from './servedModel.js';

/** Request bodies above this get 413: a full context of text is far below it. */
export const BODY_LIMIT = 4 * 1024 * 1024;

export interface ServerOptions {
  engine: EngineClient;
  model: ServedModel;
  apiKey: string | null;
  /** Sequences generating at once; the engine decides how many of them truly run together. */
  parallel: number;
  maxQueue: number;
  /**
   * One line per request (stderr in `parley serve`). Token counting, which a chat client does
   * as its user types, logs at the debug level, which `parley serve --verbose` shows.
   */
  log(line: string, level: 'info' | 'debug'): void;
}

export interface ParleyServer {
  app: FastifyInstance;
  admission: Admission;
  /** Cancels every generation in flight and every queued request. */
  cancelAll(): void;
}

export function buildServer(options: ServerOptions): ParleyServer {
  const app = Fastify({
    logger: false,
    bodyLimit: BODY_LIMIT,
    // Wrong types are errors, not coerced; unknown fields are errors, not dropped.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    return503OnClosing: true,
    forceCloseConnections: true,
  });
  // The engine runs together what it can batch; the rest of --parallel waits in the queue,
  // so a graph that cannot batch is served one request at a time.
  const together = Math.max(1, Math.min(options.parallel, options.model.info.parallel ?? 1));
  const admission = new Admission(together, options.maxQueue + (options.parallel - together));
  const inflight = new Set<AbortController>();
  const tokens = new WeakMap<FastifyRequest, { n: number; timing?: string }>();
  const ctx: ServeContext = {
    engine: options.engine,
    model: options.model,
    admission,
    inflight,
    recordTokens: (request, n, done) =>
      tokens.set(request, { n, ...(done && done.generatedTokens > 0 ? { timing: `, first token ${Math.round(done.ttftMs)} ms, ${done.tokensPerSecond.toFixed(1)} tok/s` } : {}) }),
  };

  app.addHook('onRequest', async (request, reply) => {
    const started = performance.now();
    reply.raw.once('close', () => {
      const ms = Math.round(performance.now() - started);
      const status = reply.raw.writableFinished ? reply.raw.statusCode : `${reply.raw.statusCode} (client gone)`;
      const counted = tokens.get(request);
      const level = request.url === '/tokenize' && reply.raw.statusCode < 400 ? 'debug' : 'info';
      options.log(`${request.method} ${sanitizeUrl(request.url)} ${status} ${counted?.n ?? 0} tokens ${ms} ms${counted?.timing ?? ''}`, level);
    });
    if (options.apiKey !== null && request.url !== '/health' && !keyMatches(request.headers.authorization, options.apiKey)) {
      throw new ApiError(401, 'Incorrect or missing API key: send it as "Authorization: Bearer <key>"', 'authentication_error', null, 'invalid_api_key');
    }
  });

  app.setErrorHandler((error: FastifyError | ApiError, request, reply) => {
    if (reply.sent || reply.raw.headersSent) return;
    if (error instanceof ApiError) {
      void reply.code(error.status).headers(error.headers).send(error.body());
      return;
    }
    if (error.name === 'AbortError') return; // the client left while it waited
    if (error.validation && error.validation.length > 0) {
      const e = error.validation[0]!;
      const extra = (e.params as { additionalProperty?: string }).additionalProperty;
      const param = fieldName(e.instancePath, extra);
      const message = extra !== undefined ? `unsupported field "${param}"` : `${param || 'body'} ${e.message ?? 'is invalid'}`;
      void reply.code(400).send(badRequest(message, param || null).body());
      return;
    }
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') drainThenAnswer(request, reply);
    const status = typeof error.statusCode === 'number' && error.statusCode >= 400 ? error.statusCode : 500;
    const message = status >= 500 ? `internal error: ${error.message.split('\n')[0]}` : error.message;
    if (status >= 500) options.log(`error: ${error.stack ?? error.message}`, 'info');
    void reply.code(status).send(new ApiError(status, message, typeForStatus(status), null, error.code ?? null).body());
  });

  app.setNotFoundHandler((request, reply) => {
    void reply.code(404).send(new ApiError(404, `no route ${request.method} ${sanitizeUrl(request.url)}`, 'not_found_error').body());
  });

  app.get('/health', async () => ({ status: 'ok', running: admission.running, queued: admission.queued }));

  const modelCard = () => ({
    id: options.model.id,
    object: 'model',
    created: options.model.created,
    owned_by: 'parley',
    max_model_len: options.model.info.contextLength,
  });
  app.get('/v1/models', async () => ({ object: 'list', data: [modelCard()] }));
  app.get<{ Params: { '*': string } }>('/v1/models/*', async (request) => {
    checkModel(options.model, request.params['*']);
    return modelCard();
  });

  app.withTypeProvider<TypeBoxTypeProvider>().post('/tokenize', { schema: { body: tokenizeBody } }, async (request) => {
    const { body } = request;
    if (body.model !== undefined) checkModel(options.model, body.model);
    const given = [body.prompt, body.content, body.messages].filter((x) => x !== undefined).length;
    if (given > 1) throw badRequest('send one of "prompt", "content" or "messages"', 'messages');
    // Messages count as /v1/chat/completions prompts them: through the same format, cue included.
    const text = body.messages ? chatPrompt(options.model.format, body.messages) : (body.prompt ?? body.content);
    if (text === undefined) throw badRequest('send what to count as "prompt" (or "content"), or a chat as "messages"', 'prompt');
    const [ids = []] = await options.engine.tokenize([text]);
    return { count: ids.length, max_model_len: options.model.info.contextLength, tokens: ids };
  });

  registerCompletionRoutes(app, ctx);

  return {
    app,
    admission,
    cancelAll: () => {
      for (const controller of inflight) controller.abort();
    },
  };
}

/** How much of an oversized body is read and dropped so that its client hears the 413. */
const DRAIN_LIMIT = 64 * 1024 * 1024;

/**
 * Fastify answers an oversized body and closes at once, while the client is still sending:
 * the unread data makes the close a reset, and most clients never see the 413. So the rest
 * of the body is read and dropped (up to DRAIN_LIMIT) and the connection stays open for it.
 */
function drainThenAnswer(request: FastifyRequest, reply: FastifyReply): void {
  reply.removeHeader('connection');
  let read = 0;
  request.raw.on('data', (chunk: Buffer) => {
    read += chunk.length;
    if (read > DRAIN_LIMIT) request.raw.destroy();
  });
  request.raw.resume();
}

function keyMatches(header: string | undefined, key: string): boolean {
  const given = /^Bearer\s+(.+)$/i.exec(header ?? '')?.[1]?.trim() ?? '';
  // Hashes of equal length, so the comparison takes the same time whatever was sent.
  const digest = (s: string): Buffer => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(key));
}

/** `/messages/0/role` → `messages[0].role`. */
function fieldName(instancePath: string, extra: string | undefined): string {
  const parts = instancePath.split('/').filter((p) => p !== '');
  if (extra !== undefined) parts.push(extra);
  return parts.reduce((name, part) => (/^\d+$/.test(part) ? `${name}[${part}]` : name ? `${name}.${part}` : part), '');
}

/** A URL as it goes in a log line: no control characters, bounded. */
function sanitizeUrl(url: string): string {
  // eslint-disable-next-line no-control-regex
  return url.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?').slice(0, 200);
}
