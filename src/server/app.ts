// The HTTP face of Parley's engine: OpenAI's routes on Fastify (routing, JSON-schema
// validation, body limits), every error in OpenAI's shape, one log line per request.
import { timingSafeEqual, createHash } from 'node:crypto';
import { createServer } from 'node:http';
import type { Duplex } from 'node:stream';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { EngineClient } from '../engine/engineClient.js';
import { Admission } from './admission.js';
import { ApiError, badRequest, typeForStatus } from './apiError.js';
import { checkModel, registerCompletionRoutes, type ServeContext } from './completionRoutes.js';
import { HostGuard } from './hostGuard.js';
import { loggedPath, printable, sentStatus } from './requestLog.js';
import type { ServedModel } from './servedModel.js';
import { registerTokenizeRoute } from './tokenizeRoute.js';

/** Request bodies above this get 413: a full context of text is far below it. */
export const BODY_LIMIT = 4 * 1024 * 1024;

/** /tokenize requests waiting for the tokenizer thread: a chat client counts every turn of its window at once, so far more than --max-queue. */
export const TOKENIZE_QUEUE = 1024;

export interface ServerOptions {
  engine: EngineClient;
  model: ServedModel;
  apiKey: string | null;
  /** Sequences generating at once; the engine decides how many of them truly run together. */
  parallel: number;
  maxQueue: number;
  /** The address bound: a request naming another host (DNS rebinding) is refused. Default 127.0.0.1. */
  host?: string;
  /** Browser origins allowed besides pages on this machine (`*`: any). */
  allowedOrigins?: readonly string[];
  /** Longest a request may take to arrive, headers and body; 0: no limit. Default 60 s. */
  requestTimeoutMs?: number;
  /** Connections open at once; more are closed as they arrive. Default 256. */
  maxConnections?: number;
  /**
   * One line per request (stderr in `parley serve`). Token counting, which a chat client does
   * as its user types, logs at the debug level, which `parley serve --verbose` shows.
   */
  log(line: string, level: 'info' | 'debug'): void;
}

export const SERVER_DEFAULTS = { requestTimeoutMs: 60_000, maxConnections: 256 } as const;

export interface ParleyServer {
  app: FastifyInstance;
  admission: Admission;
  tokenizing: Admission;
  /**
   * Stops accepting, answers queued requests 503 with Retry-After, lets running replies go on
   * for up to `graceMs`, then ends them as cut by their length; resolves once the server closed.
   */
  shutdown(graceMs: number): Promise<void>;
}

export function buildServer(options: ServerOptions): ParleyServer {
  const requestTimeout = options.requestTimeoutMs ?? SERVER_DEFAULTS.requestTimeoutMs;
  // Sockets that got a 408 because their request did not arrive in time, for the log line.
  const timedOut = new WeakSet<object>();
  const app = Fastify({
    logger: false,
    bodyLimit: BODY_LIMIT,
    // Wrong types are errors, not coerced; unknown fields are errors, not dropped.
    ajv: { customOptions: { coerceTypes: false, removeAdditional: false, allErrors: false } },
    return503OnClosing: true,
    // Closing ends idle keep-alive connections; replies still running are let finish (see shutdown).
    forceCloseConnections: 'idle',
    serverFactory: (handler) => {
      const server = createServer(
        {
          requestTimeout,
          // Silent headers get their 408 within the request's own limit.
          headersTimeout: requestTimeout > 0 ? Math.min(60_000, requestTimeout) : 60_000,
          // How often Node checks those limits (30 s by default: a 1 s limit would wait that long).
          connectionsCheckingInterval: requestTimeout > 0 ? Math.max(250, Math.min(30_000, Math.floor(requestTimeout / 4))) : 30_000,
        },
        handler,
      );
      server.maxConnections = options.maxConnections ?? SERVER_DEFAULTS.maxConnections;
      // A client that sends its request and half-closes (shutdown(SHUT_WR)) still gets the response.
      (server as { httpAllowHalfOpen?: boolean }).httpAllowHalfOpen = true;
      return server;
    },
    clientErrorHandler: (error, socket) => {
      if ((error as NodeJS.ErrnoException).code === 'ERR_HTTP_REQUEST_TIMEOUT') timedOut.add(socket);
      answerClientError(error, socket);
    },
  });
  // The engine runs together what it can batch; the rest of --parallel waits in the queue,
  // so a graph that cannot batch is served one request at a time.
  const together = Math.max(1, Math.min(options.parallel, options.model.info.parallel ?? 1));
  const admission = new Admission(together, options.maxQueue + (options.parallel - together));
  // The tokenizer thread encodes one text at a time: one count at a time, so that a
  // generation's prompt waits behind one count at most.
  const tokenizing = new Admission(1, TOKENIZE_QUEUE);
  const inflight = new Set<AbortController>();
  const tokens = new WeakMap<FastifyRequest, { n: number; timing?: string }>();
  const guard = new HostGuard(options.host ?? '127.0.0.1', options.allowedOrigins ?? []);
  const ctx: ServeContext = {
    engine: options.engine,
    model: options.model,
    admission,
    tokenizing,
    inflight,
    recordTokens: (request, n, done) =>
      tokens.set(request, {
        n,
        ...(done && done.generatedTokens > 0
          ? { timing: `, first token ${Math.round(done.ttftMs)} ms, ${done.tokensPerSecond.toFixed(1)} tok/s` }
          : {}),
      }),
  };

  app.addHook('onRequest', async (request, reply) => {
    const started = performance.now();
    reply.raw.once('close', () => {
      const ms = Math.round(performance.now() - started);
      const res = reply.raw;
      const status = sentStatus({
        status: res.statusCode,
        finished: res.writableFinished,
        headersSent: res.headersSent,
        timedOut: timedOut.has(request.raw.socket),
      });
      const counted = tokens.get(request);
      const level = request.url === '/tokenize' && res.statusCode < 400 ? 'debug' : 'info';
      options.log(
        `${request.method} ${loggedPath(request.url)} ${status} ${counted?.n ?? 0} tokens ${ms} ms${counted?.timing ?? ''}`,
        level,
      );
    });
    if (!guard.hostAllowed(request.headers.host)) {
      throw new ApiError(
        403,
        `requests for host "${printable(request.headers.host ?? '')}" are refused: this server answers to the address it listens on (allow more with --allowed-origins)`,
        'invalid_request_error',
        null,
        'host_not_allowed',
      );
    }
    const origin = request.headers.origin;
    if (origin !== undefined) {
      if (!guard.originAllowed(origin)) {
        throw new ApiError(
          403,
          `requests from the web page at ${printable(origin)} are refused (allow its origin with --allowed-origins or $PARLEY_ALLOWED_ORIGINS)`,
          'invalid_request_error',
          null,
          'origin_not_allowed',
        );
      }
      void reply.header('access-control-allow-origin', origin).header('vary', 'origin');
      // A browser's preflight carries no key: it asks whether the real request may be sent.
      if (request.method === 'OPTIONS' && request.headers['access-control-request-method'] !== undefined) {
        return reply
          .code(204)
          .header('access-control-allow-methods', 'GET, POST, OPTIONS')
          .header('access-control-allow-headers', request.headers['access-control-request-headers'] ?? 'authorization, content-type')
          .header('access-control-max-age', '600')
          .send();
      }
    }
    if (options.apiKey !== null && request.url !== '/health' && !keyMatches(request.headers.authorization, options.apiKey)) {
      throw new ApiError(
        401,
        'Incorrect or missing API key: send it as "Authorization: Bearer <key>"',
        'authentication_error',
        null,
        'invalid_api_key',
      );
    }
    return undefined;
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
    void reply.code(404).send(new ApiError(404, `no route ${request.method} ${printable(request.url)}`, 'not_found_error').body());
  });

  app.get('/health', async () => ({
    status: 'ok',
    running: admission.running,
    queued: admission.queued,
    tokenizing: tokenizing.running,
    tokenize_queued: tokenizing.queued,
  }));

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

  registerTokenizeRoute(app, ctx);
  registerCompletionRoutes(app, ctx);

  const shutdown = async (graceMs: number): Promise<void> => {
    const graceSeconds = graceMs / 1000;
    admission.close(graceSeconds + 1);
    tokenizing.close(graceSeconds + 1);
    const closed = app.close();
    const deadline = performance.now() + graceMs;
    while ((admission.running > 0 || tokenizing.running > 0) && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const controller of inflight) controller.abort();
    await closed;
  };

  return { app, admission, tokenizing, shutdown };
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

/** As Fastify answers a client error by default: a 408 or 400 written on the socket, then closed. */
function answerClientError(error: Error, socket: Duplex): void {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ECONNRESET' || !socket.writable) {
    socket.destroy(error);
    return;
  }
  const status = code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
  const body = JSON.stringify(
    new ApiError(status, status === 408 ? 'the request did not arrive in time' : 'bad request', 'invalid_request_error').body(),
  );
  socket.end(
    `HTTP/1.1 ${status} ${status === 408 ? 'Request Timeout' : 'Bad Request'}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n${body}`,
  );
}
