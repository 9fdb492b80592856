// Where one decode step's time goes: a per-step JS timeline of Parley's decoder (feeds,
// session.run, writing the new rows, copying the logits, sampling) next to onnxruntime's
// own profile of the same steps (the graph's node time and the run's total), in-process.
//   node --single-threaded-gc dist/scripts/profileStep.js [DTYPE] [CONTEXT] [--threads N] [--spin 0|1] [--spin-us N]
import { readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { DecoderSession, inspectDecoderGraph } from '../src/engine/decode/decoderSession.js';
import { onnxFileFor } from '../src/engine/load/modelLoader.js';
import type { Dtype } from '../src/engine/protocol.js';
import { createRng, sampleNextToken } from '../src/engine/generate/sampling.js';
import { gpt2SmallDir } from '../test/helpers/fixtures.js';
import { median, round } from './benchStats.js';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    threads: { type: 'string', default: '2' },
    spin: { type: 'string', default: '0' },
    'spin-us': { type: 'string' },
    steps: { type: 'string', default: '64' },
  },
});
const dtype = (positionals[0] ?? 'q8') as Dtype;
const context = Number(positionals[1] ?? 16);
const STEPS = Number(values.steps);

const dir = await gpt2SmallDir(true);
const file = path.join(dir, onnxFileFor(dtype));
const profilePrefix = path.join(os.tmpdir(), `parley-profile-${process.pid}`);

async function session(profile: boolean): Promise<ort.InferenceSession> {
  const intra: Record<string, string> = { allow_spinning: values.spin };
  if (values['spin-us'] !== undefined) intra['spin_duration_us'] = values['spin-us'];
  return ort.InferenceSession.create(file, {
    intraOpNumThreads: Number(values.threads),
    graphOptimizationLevel: 'all',
    ...(profile ? { enableProfiling: true, profileFilePrefix: profilePrefix } : {}),
    extra: { session: { intra_op: intra } },
  } as ort.InferenceSession.SessionOptions);
}

interface StepTimes {
  run: number;
  forward: number;
  sample: number;
  total: number;
}

async function timeSteps(s: ort.InferenceSession): Promise<StepTimes[]> {
  const graph = inspectDecoderGraph(s, { layers: 12, kvHeads: 12, headDim: 64 });
  const decoder = new DecoderSession(s, graph, 1024);
  const originalRun = s.run.bind(s);
  let runMs = 0;
  (s as { run: typeof s.run }).run = (async (...args: Parameters<typeof s.run>) => {
    const t = performance.now();
    try {
      return await originalRun(...args);
    } finally {
      runMs += performance.now() - t;
    }
  }) as typeof s.run;
  const prompt = Array.from({ length: context }, (_, i) => 31373 + (i % 7));
  let step = await decoder.forward(prompt, decoder.emptyCache());
  const params = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1.1, maxNewTokens: STEPS, seed: 1 };
  const rng = createRng(1);
  const seen = new Set(prompt);
  const times: StepTimes[] = [];
  for (let i = 0; i < STEPS; i++) {
    const t0 = performance.now();
    const token = sampleNextToken(step.logits, params, seen, rng);
    seen.add(token);
    const t1 = performance.now();
    runMs = 0;
    step = await decoder.forward([token], step.cache);
    const t2 = performance.now();
    times.push({ run: runMs, forward: t2 - t1, sample: t1 - t0, total: t2 - t0 });
  }
  return times;
}

const med = (xs: StepTimes[], k: keyof StepTimes): number => round(median(xs.map((x) => x[k])), 3);

// Plain timing first (profiling itself costs time), then the profiled run.
const plain = await session(false);
await timeSteps(plain);
const times = await timeSteps(plain);
await plain.release();
const profiled = await session(true);
await timeSteps(profiled);
profiled.endProfiling();
await profiled.release();
// onnxruntime names the file <prefix>_<date>.json.
const profileFile = path.join(
  os.tmpdir(),
  (await readdir(os.tmpdir())).find((f) => f.startsWith(path.basename(profilePrefix)) && f.endsWith('.json'))!,
);
const events = JSON.parse(await readFile(profileFile, 'utf8')) as {
  cat: string;
  name: string;
  ts: number;
  dur: number;
  args?: { op_name?: string };
}[];
await rm(profileFile, { force: true });
// The last STEPS model runs are the decode steps; node events sum to the graph's work.
const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run');
const steps = runs.slice(-STEPS);
// Only the nodes of the decode steps (not the prefill), by their time stamps.
const inStep = (ts: number): boolean => steps.some((r) => ts >= r.ts && ts <= r.ts + r.dur);
const nodes = events.filter((e) => e.cat === 'Node' && e.name.endsWith('_kernel_time') && inStep(e.ts));
const nodeMsPerStep = nodes.reduce((sum, e) => sum + e.dur, 0) / 1000 / steps.length;
const byOp = new Map<string, number>();
for (const e of nodes) byOp.set(e.args?.op_name ?? '?', (byOp.get(e.args?.op_name ?? '?') ?? 0) + e.dur / 1000 / steps.length);
const ops = [...byOp.entries()]
  .sort((a, b) => b[1] - a[1])
  .slice(0, 8)
  .map(([op, ms]) => ({ op, ms: round(ms, 3) }));
const result = {
  dtype,
  context,
  threads: Number(values.threads),
  spinning: values.spin === '1',
  spinDurationUs: values['spin-us'] ?? null,
  loadavg: os.loadavg().map((x) => round(x, 2)),
  msPerStep: {
    total: med(times, 'total'),
    forward: med(times, 'forward'),
    sessionRun: med(times, 'run'),
    outsideRunInForward: round(med(times, 'forward') - med(times, 'run'), 3),
    sample: med(times, 'sample'),
    ortModelRun: round(median(steps.map((e) => e.dur / 1000)), 3),
    ortNodesMean: round(nodeMsPerStep, 3),
  },
  tokPerS: round(1000 / med(times, 'total'), 1),
  topOps: ops,
};
console.log(JSON.stringify(result));
