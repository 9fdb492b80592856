// node dist/scripts/llamaAttentionBench.js [--dir DIR] [--dtypes fp32,q8] [--variants twoPart,concat,gqa,mha]
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

const { values } = parseArgs({
  options: {
    dir: { type: 'string', default: path.join(os.tmpdir(), 'parley-llama-attention') },
    dtypes: { type: 'string', default: 'fp32,q8' },
    variants: { type: 'string', default: ATTENTION_KINDS.join(',') },
    steps: { type: 'string', default: '24' },
  },
});
const dims = LLAMA_SHAPES['smollm2-135m'];
const CONTEXTS = [16, 512, 896];
const steps = Number(values.steps);
const variants = values.variants.split(',') as AttentionKind[];
const dtypes = values.dtypes.split(',') as Precision[];
await mkdir(values.dir, { recursive: true });

const int64 = (data: readonly number[], dimsOf: readonly number[]) => new ort.Tensor('int64', BigInt64Array.from(data, BigInt), dimsOf);

async function stepTimes(file: string, context: number): Promise<number[]> {
  const session = await ort.InferenceSession.create(file, { intraOpNumThreads: 2, graphOptimizationLevel: 'all' });
  const past: Record<string, ort.Tensor> = {};
  const cache = new Float32Array(dims.kvHeads * context * dims.headDim).map(() => Math.random() - 0.5);
  for (let i = 0; i < dims.layers; i++) {
    for (const kind of ['key', 'value'])
      past[`past_key_values.${i}.${kind}`] = new ort.Tensor('float32', cache, [1, dims.kvHeads, context, dims.headDim]);
  }
  const fetches = [
    'logits',
    ...Array.from({ length: dims.layers }, (_, i) => [`new_key_values.${i}.key`, `new_key_values.${i}.value`]).flat(),
  ];
  const times: number[] = [];
  for (let s = 0; s < steps + 2; s++) {
    const feeds = {
      input_ids: int64([100 + s], [1, 1]),
      attention_mask: int64(new Array<number>(context + 1).fill(1), [1, context + 1]),
      position_ids: int64([context], [1, 1]),
      num_logits_to_keep: int64([1], []),
      ...past,
    };
    const started = performance.now();
    await session.run(feeds, fetches);
    if (s >= 2) times.push(performance.now() - started);
  }
  await session.release();
  return times;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

for (const dtype of dtypes) {
  for (const attention of variants) {
    const file = path.join(values.dir, `smollm2-${attention}-${dtype}.onnx`);
    if (!existsSync(file)) await writeLlamaOnnx(file, { dims, seed: 1, q8: false, q4: false, attention }, dtype);
    for (const context of CONTEXTS) {
      const ms = median(await stepTimes(file, context));
      console.log(
        JSON.stringify({
          shape: 'smollm2-135m',
          dtype,
          attention,
          context,
          stepMs: Math.round(ms * 10) / 10,
          tokPerS: Math.round(10000 / ms) / 10,
          load: os.loadavg()[0]!.toFixed(2),
        }),
      );
    }
  }
}
