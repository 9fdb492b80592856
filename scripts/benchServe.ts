// npm run bench:serve [-- --model DIR --dtype fp32|q8|q4]: parley serve on the generated GPT-2
// small (random weights, fp32) or the model folder DIR,
// measured from the client side with the official openai package: tok/s and p50/p95 TTFT
// for 1, 4 and 16 concurrent streaming clients, and the HTTP layer's cost (one client's
// decode rate against the in-process worker engine's on the same prompts). Prints one JSON
// line last.
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import OpenAI from 'openai';
import { createEngine } from '../src/engine/worker/workerEngineClient.js';
import { DTYPES, type Dtype, type GenerateEvent } from '../src/engine/protocol.js';
import { gpt2SmallDir } from '../test/helpers/fixtures.js';
import { startServe } from '../test/helpers/serveProcess.js';
import { log, median, round } from './benchStats.js';

const TOKENS = 64;
const SETTLE_MS = 2500;
/** Rounds per level: p95 of a handful of samples is their maximum, so the small levels get more. */
const ROUNDS: Record<number, number> = { 1: 8, 4: 6, 16: 2 };
const prompt = (client: number, round: number): string => `Client ${client}, round ${round}:${' hello'.repeat(12)}`;

interface Run {
  ttftMs: number;
  tokens: number;
  /** Decode rate after the first token, as the client saw it. */
  decodeTokS: number;
  startedAt: number;
  endedAt: number;
}

function percentile(xs: readonly number[], p: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function httpRun(client: OpenAI, model: string, text: string): Promise<Run> {
  const startedAt = performance.now();
  const stream = await client.completions.create({ model, prompt: text, max_tokens: TOKENS, temperature: 0, stream: true });
  let first = 0;
  let last = 0;
  let tokens = 0;
  for await (const chunk of stream) {
    if (!chunk.choices[0]?.text) continue;
    last = performance.now();
    if (tokens++ === 0) first = last;
  }
  return {
    ttftMs: first - startedAt,
    tokens,
    decodeTokS: tokens > 1 ? ((tokens - 1) * 1000) / (last - first) : 0,
    startedAt,
    endedAt: last,
  };
}

const { values } = parseArgs({ options: { model: { type: 'string' }, dtype: { type: 'string', default: 'fp32' } } });
const dtype = values.dtype as Dtype;
if (!DTYPES.includes(dtype)) throw new Error(`--dtype must be one of ${DTYPES.join(', ')}, got ${values.dtype}`);
const modelDir = values.model ? path.resolve(values.model) : await gpt2SmallDir(false);
const cacheDir = await mkdtemp(path.join(os.tmpdir(), 'parley-bench-serve-'));
const load = (): number[] => os.loadavg().map((x) => round(x, 2));
const loadAtStart = load();

// The server starts first: each engine decides whether its threads spin from how busy the
// machine is while it loads, and the other must be idle then.
log('parley serve…');
const serve = await startServe(['--model', modelDir, '--dtype', dtype, '--offline', '--parallel', '4', '--max-queue', '64'], {
  PARLEY_CACHE_DIR: cacheDir,
  PARLEY_CONFIG_DIR: path.join(cacheDir, 'config'),
});

// In process: the worker engine the server uses, without HTTP, batching or the prefix cache.
// It stays loaded beside the server, and its runs alternate with the single client's over
// HTTP, so a drift in the machine's speed weighs on both sides of the ratio alike. Its
// threads spin exactly when the server's do: measured while the server sits loaded beside
// it, the machine can look busier than it is, and a ratio between a spinning and a
// non-spinning engine would measure the threading, not HTTP.
await sleep(SETTLE_MS);
const serverSpins = /onnxruntime's threads (spin|do not spin)/.exec(serve.stderr())?.[1];
if (serverSpins && process.env['PARLEY_SPIN'] === undefined) process.env['PARLEY_SPIN'] = serverSpins === 'spin' ? 'on' : 'off';
log('in-process engine…');
const engine = createEngine({ cacheDir, prefixCache: false, tokenBurstMs: 0 });
const inProcess: Run[] = [];
const threading = (await engine.load(modelDir, { dtype, offline: true })).threading ?? null;
const params = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, maxNewTokens: TOKENS, minNewTokens: TOKENS, seed: null };
async function inProcessRun(r: number): Promise<Run> {
  let done: Extract<GenerateEvent, { type: 'done' }> | null = null;
  for await (const e of engine.generate(prompt(0, r), params)) if (e.type === 'done') done = e;
  return { ttftMs: done!.ttftMs, tokens: done!.generatedTokens, decodeTokS: done!.tokensPerSecond, startedAt: 0, endedAt: 0 };
}

const client = new OpenAI({ baseURL: serve.baseURL, apiKey: 'none', maxRetries: 0 });
const model = path.basename(modelDir);
const levels: {
  clients: number;
  aggregateTokS: number;
  perClientDecodeTokS: number;
  ttftP50Ms: number;
  ttftP95Ms: number;
  tokens: number;
}[] = [];
let single: Run[] = [];
let serverLog: string;
try {
  await httpRun(client, model, 'warm up'); // the first request pays for lazy allocations
  await inProcessRun(-1);
  for (const clients of [1, 4, 16]) {
    log(`${clients} client(s)…`);
    const runs: Run[] = [];
    let aggregate: number[] = [];
    for (let r = 0; r < ROUNDS[clients]!; r++) {
      if (clients === 1) {
        // Each side gets the machine to itself: a process keeps a core busy for a second or
        // two after a reply (collection, onnxruntime's threads winding down).
        await sleep(SETTLE_MS);
        inProcess.push(await inProcessRun(r));
        await sleep(SETTLE_MS);
      }
      const batch = await Promise.all(Array.from({ length: clients }, (_, c) => httpRun(client, model, prompt(c + 1, r))));
      runs.push(...batch);
      const tokens = batch.reduce((a, b) => a + b.tokens, 0);
      const wall = Math.max(...batch.map((b) => b.endedAt)) - Math.min(...batch.map((b) => b.startedAt));
      aggregate.push((tokens * 1000) / wall);
    }
    if (clients === 1) single = runs;
    levels.push({
      clients,
      aggregateTokS: round(median(aggregate)),
      perClientDecodeTokS: round(median(runs.map((x) => x.decodeTokS))),
      ttftP50Ms: round(
        percentile(
          runs.map((x) => x.ttftMs),
          50,
        ),
      ),
      ttftP95Ms: round(
        percentile(
          runs.map((x) => x.ttftMs),
          95,
        ),
      ),
      tokens: runs.reduce((a, b) => a + b.tokens, 0),
    });
    aggregate = [];
  }
} finally {
  serverLog = serve.stderr();
  await engine.dispose();
  await serve.stop();
  await rm(cacheDir, { recursive: true, force: true });
}

const inProcessTokS = median(inProcess.map((x) => x.decodeTokS));
// The server's own view of the single client's replies (its log line per request), after the
// warm-up: the engine's decode rate there, before the SSE and the client's parsing.
const serverRates = [...serverLog.matchAll(/^POST \/v1\/completions 200 .* ([\d.]+) tok\/s$/gm)].map((m) => Number(m[1]));
const serverSingle = serverRates.slice(1, 1 + ROUNDS[1]!);
const httpTokS = median(single.map((x) => x.decodeTokS));
const one = levels[0]!;
const four = levels[1]!;
const result = {
  model: `${path.basename(modelDir)} ${dtype}`,
  tokensPerRequest: TOKENS,
  rounds: ROUNDS,
  parallel: 4,
  loadAverage: { start: loadAtStart, end: load() },
  inProcess: { decodeTokS: round(inProcessTokS), ttftMs: round(median(inProcess.map((x) => x.ttftMs))), threading },
  serverThreading: /onnxruntime's threads .*/.exec(serverLog)?.[0] ?? null,
  singleClientServerSideDecodeTokS: serverSingle.length > 0 ? round(median(serverSingle)) : null,
  levels,
  targets: {
    singleClientRatio: { value: round(httpTokS / inProcessTokS, 3), target: '>= 0.95' },
    fourClientsAggregateOverOne: { value: round(four.aggregateTokS / one.aggregateTokS, 2), target: '>= 2.5' },
    fourClientsP95TtftOverSingle: { value: round(four.ttftP95Ms / one.ttftP50Ms, 2), target: '<= 3' },
  },
};
log(JSON.stringify(result, null, 2));
console.log(JSON.stringify(result));
