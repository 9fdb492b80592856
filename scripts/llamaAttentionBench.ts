// node dist/scripts/llamaAttentionBench.js [--dir DIR] [--dtypes fp32,q8] [--variants twoPart,concat,gqa,mha] [--steps 24] [--rounds 2] [--cpu]
// Decode step time of the Llama-family graph's attention variants on the SmolLM2-135M shape
// (random weights), at 16 / 512 / 896 tokens of context, one session at a time. Each step feeds
// a past of the context's length and fetches what Parley's rows path fetches (logits and
// new_key_values.*), so it measures the graph, not the engine around it. Prints JSON lines.

import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { ATTENTION_KINDS, type AttentionKind } from '../src/graph/llamaAttention.js';
import { LLAMA_SHAPES, writeLlamaOnnx } from '../src/graph/makeLlamaFolder.js';
import type { Precision } from '../src/graph/projection.js';
import { decodeStepFeeds } from './llamaStepFeeds.js';

const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: path.join(os.tmpdir(), 'parley-llama-attention') },
    dtypes: { type: 'string', default: 'fp32,q8' },
    variants: { type: 'string', default: ATTENTION_KINDS.join(',') },
    steps: { type: 'string', default: '24' },
    rounds: { type: 'string', default: '2' },
    cpu: { type: 'boolean', default: false },
  },
});
const dims = LLAMA_SHAPES['smollm2-135m'];
const CONTEXTS = [16, 512, 896];
const steps = Number(values.steps);
const rounds = Number(values.rounds);
const variants = values.variants.split(',') as AttentionKind[];
const dtypes = values.dtypes.split(',') as Precision[];
await mkdir(values.dir, { recursive: true });

// --cpu: one thread without spinning, timed by the process's CPU time: on a machine others load,
// the work a step costs, which wall time (waiting for a core) hides.
async function openSession(file: string): Promise<ort.InferenceSession> {
  if (values.cpu) {
    return ort.InferenceSession.create(file, {
      intraOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    });
  }
  return ort.InferenceSession.create(file, { intraOpNumThreads: 2, graphOptimizationLevel: 'all' });
}

function clock(): number {
  if (!values.cpu) return performance.now();
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

async function stepTimes(session: ort.InferenceSession, context: number): Promise<number[]> {
  const { feeds: stepFeeds, fetches } = decodeStepFeeds(dims, context);
  const times: number[] = [];
  for (let s = 0; s < steps + 2; s++) {
    const feeds = stepFeeds(s);
    const started = clock();
    await session.run(feeds, fetches);
    if (s >= 2) times.push(clock() - started);
  }
  return times;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

// Variants alternate within each round, so a change in the machine's load falls on all of them.
for (const dtype of dtypes) {
  for (let round = 1; round <= rounds; round++) {
    for (const attention of variants) {
      const file = path.join(values.dir, `smollm2-${attention}-${dtype}.onnx`);
      if (!existsSync(file)) await writeLlamaOnnx(file, { dims, seed: 1, q8: false, q4: false, attention }, dtype);
      const session = await openSession(file);
      for (const context of CONTEXTS) {
        const ms = median(await stepTimes(session, context));
        const load = os.loadavg()[0]!.toFixed(2);
        console.log(
          JSON.stringify({
            shape: 'smollm2-135m',
            dtype,
            attention,
            round,
            context,
            stepMs: Math.round(ms * 10) / 10,
            tokPerS: Math.round(10000 / ms) / 10,
            load,
          }),
        );
      }
      await session.release();
    }
  }
}
