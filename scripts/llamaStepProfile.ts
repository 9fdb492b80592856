// node dist/scripts/llamaStepProfile.js [--shape smollm2-135m] [--dtypes q8,q4] [--contexts 16,512] [--steps 24]
//   [--threads 2] [--spin 0|1] [--profile] [--dir DIR] [--rebuild] [--file LABEL=PATH …] [--rounds N]
// Where one decode step of the Llama-family graph goes, on a shape's random weights: CPU time
// (every thread of the process) and wall time per step, median, fetching what Parley's rows path
// fetches; with --profile, onnxruntime's per-op kernel time per step as well. --file runs given
// graphs instead (labels alternate within each round, so load changes fall on all). Prints JSON lines.

import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { LLAMA_SHAPES, type LlamaShapeName, writeLlamaOnnx } from '../src/graph/makeLlamaFolder.js';
import type { Precision } from '../src/graph/projection.js';
import { decodeStepFeeds } from './llamaStepFeeds.js';

const { values } = parseArgs({
  options: {
    shape: { type: 'string', default: 'smollm2-135m' },
    dir: { type: 'string', default: path.join(os.tmpdir(), 'parley-llama-profile') },
    dtypes: { type: 'string', default: 'q8,q4' },
    contexts: { type: 'string', default: '16,512' },
    steps: { type: 'string', default: '24' },
    threads: { type: 'string', default: '2' },
    spin: { type: 'string', default: '0' },
    profile: { type: 'boolean', default: false },
    rebuild: { type: 'boolean', default: false },
    top: { type: 'string', default: '10' },
    file: { type: 'string', multiple: true, default: [] },
    rounds: { type: 'string', default: '1' },
    interleave: { type: 'boolean', default: false },
    config: { type: 'string', multiple: true, default: [] },
  },
});
const shape = values.shape as LlamaShapeName;
const dims = LLAMA_SHAPES[shape];
if (!dims) throw new Error(`--shape: ${values.shape} is not one of ${Object.keys(LLAMA_SHAPES).join(', ')}`);
const contexts = values.contexts.split(',').map(Number);
const steps = Number(values.steps);
await mkdir(values.dir, { recursive: true });

const cpuMs = (): number => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const round2 = (x: number, digits = 2): number => Math.round(x * 10 ** digits) / 10 ** digits;

/** --config LABEL:key=value: a session config entry (e.g. session.dynamic_block_base=4) for that label's session. */
function configFor(label: string): Record<string, string> {
  const entries: Record<string, string> = {};
  for (const item of values.config) {
    const [who, rest] = [item.slice(0, item.indexOf(':')), item.slice(item.indexOf(':') + 1)];
    if (who === label) entries[rest.slice(0, rest.indexOf('='))] = rest.slice(rest.indexOf('=') + 1);
  }
  return entries;
}

async function openSession(file: string, profilePrefix?: string, label = ''): Promise<ort.InferenceSession> {
  const config = configFor(label);
  const threads = Number(config['threads'] ?? values.threads);
  delete config['threads'];
  return ort.InferenceSession.create(file, {
    intraOpNumThreads: threads,
    graphOptimizationLevel: 'all',
    ...(profilePrefix ? { enableProfiling: true, profileFilePrefix: profilePrefix } : {}),
    extra: {
      ...nested(config),
      session: { ...nested(config)['session'], intra_op: { allow_spinning: config['session.intra_op.allow_spinning'] ?? values.spin } },
    },
  } as ort.InferenceSession.SessionOptions);
}

async function stepTimes(session: ort.InferenceSession, context: number): Promise<{ cpu: number[]; wall: number[] }> {
  const { feeds, fetches } = decodeStepFeeds(dims, context);
  const cpu: number[] = [];
  const wall: number[] = [];
  for (let s = 0; s < steps + 2; s++) {
    const fed = feeds(s);
    const c = cpuMs();
    const w = performance.now();
    await session.run(fed, fetches);
    if (s >= 2) {
      cpu.push(cpuMs() - c);
      wall.push(performance.now() - w);
    }
  }
  return { cpu, wall };
}

interface ProfileEvent {
  cat: string;
  name: string;
  ts: number;
  dur: number;
  args?: { op_name?: string };
}

async function profiledOps(file: string, context: number, label: string): Promise<{ op: string; ms: number; count: number }[]> {
  const prefix = path.join(os.tmpdir(), `parley-llama-profile-${process.pid}-${context}`);
  const session = await openSession(file, prefix, label);
  await stepTimes(session, context);
  session.endProfiling();
  await session.release();
  const name = (await readdir(os.tmpdir())).find((f) => f.startsWith(path.basename(prefix)) && f.endsWith('.json'))!;
  const profileFile = path.join(os.tmpdir(), name);
  const events = JSON.parse(await readFile(profileFile, 'utf8')) as ProfileEvent[];
  await rm(profileFile, { force: true });
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').slice(-steps);
  const inStep = (ts: number): boolean => runs.some((r) => ts >= r.ts && ts <= r.ts + r.dur);
  const byOp = new Map<string, { ms: number; count: number }>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || !inStep(e.ts)) continue;
    const op = e.args?.op_name ?? '?';
    const entry = byOp.get(op) ?? { ms: 0, count: 0 };
    entry.ms += e.dur / 1000 / runs.length;
    entry.count += 1 / runs.length;
    byOp.set(op, entry);
  }
  const ops = [...byOp.entries()].map(([op, { ms, count }]) => ({ op, ms: round2(ms, 3), count: Math.round(count) }));
  const total = ops.reduce((sum, o) => sum + o.ms, 0);
  return [
    { op: 'ALL', ms: round2(total, 3), count: ops.reduce((sum, o) => sum + o.count, 0) },
    ...ops.sort((a, b) => b.ms - a.ms).slice(0, Number(values.top)),
  ];
}

const runs: { label: string; file: string }[] = [];
if (values.file.length > 0) {
  for (const pair of values.file) {
    const at = pair.indexOf('=');
    runs.push({ label: pair.slice(0, at), file: pair.slice(at + 1) });
  }
} else {
  for (const dtype of values.dtypes.split(',') as Precision[]) {
    const file = path.join(values.dir, `${shape}-${dtype}.onnx`);
    if (values.rebuild || !existsSync(file)) await writeLlamaOnnx(file, { dims, seed: 1, q8: false, q4: false }, dtype);
    runs.push({ label: dtype, file });
  }
}

/** 'a.b.c=v' entries as the nested object onnxruntime-node's `extra` takes. */
function nested(entries: Record<string, string>): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [key, value] of Object.entries(entries)) {
    const parts = key.split('.');
    let at: Record<string, unknown> = out;
    for (const part of parts.slice(0, -1)) at = (at[part] ??= {}) as Record<string, unknown>;
    at[parts.at(-1)!] = value;
  }
  return out;
}

const quantile = (xs: number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * q)]!;

if (values.interleave) {
  // Every session open at once and one step of each in turn: a load change falls on all alike.
  const sessions = await Promise.all(runs.map(async (r) => ({ ...r, session: await openSession(r.file, undefined, r.label) })));
  for (const context of contexts) {
    const made = decodeStepFeeds(dims, context);
    const cpu = sessions.map(() => [] as number[]);
    const wall = sessions.map(() => [] as number[]);
    for (let s = 0; s < steps + 2; s++) {
      for (const [i, { session }] of sessions.entries()) {
        const feeds = made.feeds(s);
        const c = cpuMs();
        const w = performance.now();
        await session.run(feeds, made.fetches);
        if (s >= 2) {
          cpu[i]!.push(cpuMs() - c);
          wall[i]!.push(performance.now() - w);
        }
      }
    }
    for (const [i, { label }] of sessions.entries()) {
      console.log(
        JSON.stringify({
          shape,
          label,
          context,
          threads: Number(values.threads),
          spin: values.spin,
          cpuMs: round2(median(cpu[i]!)),
          cpuP10: round2(quantile(cpu[i]!, 0.1)),
          wallMs: round2(median(wall[i]!)),
          wallP10: round2(quantile(wall[i]!, 0.1)),
          load: os.loadavg()[0]!.toFixed(2),
        }),
      );
    }
  }
  process.exit(0);
}

for (let round = 1; round <= Number(values.rounds); round++) {
  for (const { label, file } of runs) {
    const session = await openSession(file, undefined, label);
    for (const context of contexts) {
      const { cpu, wall } = await stepTimes(session, context);
      const line: Record<string, unknown> = {
        shape,
        label,
        round,
        context,
        threads: Number(values.threads),
        spin: values.spin,
        cpuMs: round2(median(cpu)),
        wallMs: round2(median(wall)),
        tokPerS: round2(1000 / median(wall), 1),
        load: os.loadavg()[0]!.toFixed(2),
      };
      if (values.profile) line['ops'] = await profiledOps(file, context, label);
      console.log(JSON.stringify(line));
    }
    await session.release();
  }
}
