// `parley serve`: load the model, listen, log a line per request, and on SIGINT/SIGTERM stop
// accepting, answer the queue 503, let running replies finish within --shutdown-grace (then
// end them as cut by their length), and exit 0. A second signal ends the process at once, by that signal.
import { homedir } from 'node:os';
import path from 'node:path';
import { resolveModelRef } from '../engine/load/modelRefs.js';
import { createEngine } from '../engine/worker/workerEngineClient.js';
import { openSettings, SettingsError } from '../settings/settingsFile.js';
import { effectiveSettings } from '../settings/settingsPrecedence.js';
import { buildServer } from '../server/app.js';
import { servedModel } from '../server/servedModel.js';
import { modelCacheDir } from '../paths.js';
import { loadProgressLine } from '../chat/view/loadProgressLine.js';
import { isLoopback, parseServeArgs, SERVE_HELP } from './serveArgs.js';
import { errorMessage } from '../errors.js';
import { sanitizeForTerminal } from '../text/terminalText.js';

/** How long closing may take after the grace (final chunks, the engine's exit) before the process exits anyway. */
const SHUTDOWN_DEADLINE_MS = 1800;

export async function runServe(argv: string[]): Promise<number> {
  const stderr = process.stderr;
  // Model paths and engine errors may hold control characters: never raw on the terminal.
  const say = (line: string): void => void stderr.write(`${sanitizeForTerminal(line)}\n`);
  let args;
  try {
    args = parseServeArgs(argv, process.env);
  } catch (err) {
    say(`parley serve: ${errorMessage(err)}\nTry 'parley serve --help'.`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(SERVE_HELP);
    return 0;
  }
  let stored;
  try {
    stored = openSettings({ env: process.env }).stored();
  } catch (err) {
    if (err instanceof SettingsError) {
      say(`parley serve: ${err.message}`);
      return 1;
    }
    throw err;
  }
  const { values } = effectiveSettings({
    flags: { ...(args.model !== undefined ? { model: args.model } : {}), ...(args.dtype !== undefined ? { dtype: args.dtype } : {}) },
    settings: stored,
  });

  const engine = createEngine({ cacheDir: modelCacheDir(), batch: args.parallel, tokenBurstMs: 0 });
  const showProgress = stderr.isTTY === true;
  let info;
  try {
    info = await engine.load(
      values.model,
      { dtype: values.dtype, offline: args.offline, noConvert: args.noConvert === true || !values.convert },
      (p) => {
        if (showProgress) stderr.write(`\r\x1b[2K${sanitizeForTerminal(loadProgressLine(values.model, p, stderr.columns ?? 80))}`);
      },
    );
  } catch (err) {
    if (showProgress) stderr.write('\r\x1b[2K');
    say(`parley serve: ${errorMessage(err)}`);
    await engine.dispose();
    return 1;
  }
  if (showProgress) stderr.write('\r\x1b[2K');

  // A folder is served under its own name; the path as typed and the absolute path work too.
  const folder = resolveModelRef(values.model, process.cwd(), homedir()).kind === 'folder';
  const id = folder ? path.basename(info.modelId) : values.model;
  const aliases = [values.model, info.modelId].filter((a) => a !== id);
  const server = buildServer({
    engine,
    model: servedModel(id, info, aliases),
    apiKey: args.apiKey,
    parallel: args.parallel,
    maxQueue: args.maxQueue,
    host: args.host,
    allowedOrigins: args.allowedOrigins,
    requestTimeoutMs: args.timeoutSeconds * 1000,
    maxConnections: args.maxConnections,
    log: (line, level) => {
      if (level === 'info' || args.verbose) say(line);
    },
  });
  try {
    await server.app.listen({ host: args.host, port: args.port });
  } catch (err) {
    say(`parley serve: cannot listen on ${args.host}:${args.port}: ${errorMessage(err)}`);
    await engine.dispose();
    return 1;
  }
  const address = server.app.server.address();
  const port = typeof address === 'object' && address ? address.port : args.port;
  const host = args.host.includes(':') ? `[${args.host}]` : args.host;
  const batching =
    (info.parallel ?? 1) > 1 ? `up to ${info.parallel} requests decoded together` : 'one request at a time (this graph cannot batch)';
  say(`parley serve: ${id} (${info.dtype}, ${info.contextLength} tokens of context, ${batching}) on http://${host}:${port}/v1`);
  if (info.threading)
    say(
      `parley serve: onnxruntime's threads ${info.threading.spinning ? 'spin' : 'do not spin'} between parallel work (${info.threading.threads} threads; ${info.threading.why})`,
    );
  if (info.randomWeights) say('parley serve: this model has random weights: its replies are noise');
  if (!isLoopback(args.host) && args.apiKey === null) {
    say(
      `parley serve: warning: listening on ${args.host} without an API key: anyone who can reach this address can use the model (set --api-key or $PARLEY_API_KEY)`,
    );
  }

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string): void => {
      if (stopping) {
        say(`parley serve: ${signal} again: exiting now`);
        // Ended by the signal itself, its default action: exit() would run native destructors
        // while onnxruntime's threads may be mid-pass, which can abort the process instead.
        process.removeAllListeners(signal);
        process.kill(process.pid, signal);
        return;
      }
      stopping = true;
      const graceMs = args.shutdownGraceSeconds * 1000;
      say(`parley serve: ${signal}: stopping`);
      setTimeout(() => process.exit(0), graceMs + SHUTDOWN_DEADLINE_MS).unref();
      server
        .shutdown(graceMs)
        .catch(() => undefined)
        .then(() => engine.dispose())
        .catch(() => undefined)
        .then(() => resolve(0));
    };
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGTERM', () => stop('SIGTERM'));
  });
}
