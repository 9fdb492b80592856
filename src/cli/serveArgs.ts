import { parseStrict } from './strictArgs.js';
import { DTYPES, type Dtype } from '../engine/protocol.js';
import { isLoopback, parseAllowedOrigins } from '../server/hostGuard.js';

export { isLoopback };

export const SERVE_HELP = `Usage: parley serve [options]     an OpenAI-compatible HTTP server on Parley's engine

  -m, --model <ref>      model to serve (alias, hub id, folder or demo; default: the model setting)
      --dtype <type>     ${DTYPES.join(' | ')}
      --offline          never contact the Hugging Face hub
      --no-convert       run a GPT-2 export as it is, not on Parley's graph built from it
      --host <addr>      address to bind (default 127.0.0.1)
      --port <n>         port (default 8080; 0 picks a free one)
      --api-key <key>    require "Authorization: Bearer <key>" (default: $PARLEY_API_KEY)
      --parallel <n>     sequences generated at once (default 4)
      --max-queue <n>    requests waiting beyond those; more get 429 (default 32)
      --timeout <s>      longest a request may take to arrive, headers and body; 0: no limit (default 60)
      --max-connections <n>  connections open at once; more are closed (default 256)
      --shutdown-grace <s>   on SIGINT/SIGTERM, how long running replies may go on (default 5)
      --allowed-origins <list>  web pages (origins, comma-separated, or *) that may call the
                         server from a browser, besides pages on this machine
                         (also $PARLEY_ALLOWED_ORIGINS)
      --verbose          also log each POST /tokenize (a chat client sends one as you type)
  -h, --help             print this help

Routes: GET /v1/models, POST /v1/chat/completions, POST /v1/completions,
        POST /tokenize, GET /health
`;

export interface ServeArgs {
  model?: string;
  dtype?: Dtype;
  offline: boolean;
  /** --no-convert: run GPT-2 exports as they are. */
  noConvert?: boolean;
  host: string;
  port: number;
  apiKey: string | null;
  parallel: number;
  maxQueue: number;
  /** Longest a request may take to arrive, in seconds; 0: no limit. */
  timeoutSeconds: number;
  maxConnections: number;
  /** How long running replies may go on after SIGINT/SIGTERM, in seconds. */
  shutdownGraceSeconds: number;
  /** Browser origins allowed besides pages on this machine. */
  allowedOrigins: string[];
  /** Log the debug lines too (token counting requests). */
  verbose: boolean;
  help: boolean;
}

export const SERVE_DEFAULTS = {
  host: '127.0.0.1',
  port: 8080,
  parallel: 4,
  maxQueue: 32,
  timeoutSeconds: 60,
  maxConnections: 256,
  shutdownGraceSeconds: 5,
} as const;

/** Parses the arguments after `serve`. Throws an Error with a one-line message. */
export function parseServeArgs(argv: string[], env: Readonly<Record<string, string | undefined>>): ServeArgs {
  const { values, positionals } = parseStrict(argv, {
    model: { type: 'string', short: 'm' },
    dtype: { type: 'string' },
    offline: { type: 'boolean', default: false },
    'no-convert': { type: 'boolean' },
    host: { type: 'string' },
    port: { type: 'string' },
    'api-key': { type: 'string' },
    parallel: { type: 'string' },
    'max-queue': { type: 'string' },
    timeout: { type: 'string' },
    'max-connections': { type: 'string' },
    'shutdown-grace': { type: 'string' },
    'allowed-origins': { type: 'string' },
    verbose: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (positionals.length > 0) throw new Error(`unexpected argument "${positionals[0]}"`);
  const whole = (flag: string, raw: string | undefined, fallback: number, min: number, max: number): number => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!/^\d+$/.test(raw.trim()) || n < min || n > max)
      throw new Error(`${flag} must be a whole number from ${min} to ${max} (got "${raw}")`);
    return n;
  };
  if (values.dtype !== undefined && !(DTYPES as readonly string[]).includes(values.dtype)) {
    throw new Error(`--dtype must be one of ${DTYPES.join(', ')} (got "${values.dtype}")`);
  }
  // An empty key would turn authentication off while the command line seems to ask for it.
  if (values['api-key'] !== undefined && values['api-key'].trim() === '')
    throw new Error('--api-key must not be empty (leave it out to serve without a key)');
  const key = values['api-key'] ?? env['PARLEY_API_KEY'] ?? '';
  return {
    ...(values.model !== undefined ? { model: values.model } : {}),
    ...(values.dtype !== undefined ? { dtype: values.dtype as Dtype } : {}),
    offline: values.offline,
    ...(values['no-convert'] === true ? { noConvert: true } : {}),
    host: values.host ?? SERVE_DEFAULTS.host,
    port: whole('--port', values.port, SERVE_DEFAULTS.port, 0, 65535),
    apiKey: key === '' ? null : key,
    parallel: whole('--parallel', values.parallel, SERVE_DEFAULTS.parallel, 1, 64),
    maxQueue: whole('--max-queue', values['max-queue'], SERVE_DEFAULTS.maxQueue, 0, 100_000),
    timeoutSeconds: whole('--timeout', values.timeout, SERVE_DEFAULTS.timeoutSeconds, 0, 86_400),
    maxConnections: whole('--max-connections', values['max-connections'], SERVE_DEFAULTS.maxConnections, 1, 100_000),
    shutdownGraceSeconds: whole('--shutdown-grace', values['shutdown-grace'], SERVE_DEFAULTS.shutdownGraceSeconds, 0, 3600),
    allowedOrigins: parseAllowedOrigins(values['allowed-origins'], env['PARLEY_ALLOWED_ORIGINS']),
    verbose: values.verbose,
    help: values.help,
  };
}
