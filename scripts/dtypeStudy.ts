// How far q8 logits are from fp32 logits on real English text.
// Both ONNX files run one full forward pass over the same tokens (no KV cache, every
// position's logits kept), straight on onnxruntime so the engine's loop plays no part.
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { onnxFileFor } from '../src/engine/load/modelLoader.js';
import type { Dtype } from '../src/engine/protocol.js';
import { englishText } from './englishText.js';

export interface DtypeStudy {
  /** Share of positions where q8's most likely next token is fp32's. */
  top1Agreement: number;
  /** Mean over positions of KL(fp32 ‖ q8) of the next-token distributions, in nats. */
  meanKl: number;
  positions: number;
}

/** Log-softmax of every row of `logits` ([rows, vocab], row-major), in float64. */
function logSoftmaxRows(logits: Float32Array, rows: number, vocab: number): Float64Array {
  const out = new Float64Array(rows * vocab);
  for (let r = 0; r < rows; r++) {
    const o = r * vocab;
    let max = -Infinity;
    for (let i = 0; i < vocab; i++) max = Math.max(max, logits[o + i]!);
    let sum = 0;
    for (let i = 0; i < vocab; i++) sum += Math.exp(logits[o + i]! - max);
    const logZ = max + Math.log(sum);
    for (let i = 0; i < vocab; i++) out[o + i] = logits[o + i]! - logZ;
  }
  return out;
}

function argmaxRow(values: ArrayLike<number>, offset: number, vocab: number): number {
  let best = 0;
  for (let i = 1; i < vocab; i++) if (values[offset + i]! > values[offset + best]!) best = i;
  return best;
}

/** The logits of every position of `ids`, as [positions, vocab]. */
async function allLogits(file: string, ids: readonly number[]): Promise<{ data: Float32Array; vocab: number }> {
  const session = await ort.InferenceSession.create(file, { intraOpNumThreads: 2 });
  try {
    const n = ids.length;
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, n]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(n).fill(1n), [1, n]),
    };
    const inputs = new Set(session.inputNames);
    if (inputs.has('position_ids'))
      feeds['position_ids'] = new ort.Tensor(
        'int64',
        BigInt64Array.from(ids, (_, i) => BigInt(i)),
        [1, n],
      );
    // The generated graph keeps every position's logits for 0; hub exports lack the input.
    if (inputs.has('num_logits_to_keep')) feeds['num_logits_to_keep'] = new ort.Tensor('int64', BigInt64Array.of(0n), []);
    for (const meta of session.inputMetadata) {
      if (!meta.name.startsWith('past_key_values.') || !meta.isTensor) continue;
      const [, heads, , headDim] = meta.shape;
      if (typeof heads !== 'number' || typeof headDim !== 'number') throw new Error(`${meta.name} has no fixed heads/head size`);
      const empty = meta.type === 'float16' ? new Uint16Array(0) : new Float32Array(0);
      feeds[meta.name] = new ort.Tensor(meta.type === 'float16' ? 'float16' : 'float32', empty, [1, heads, 0, headDim]);
    }
    const logits = (await session.run(feeds, ['logits']))['logits'];
    if (!logits || !(logits.data instanceof Float32Array)) throw new Error(`${file} returned no float32 logits`);
    if (logits.dims[1] !== n) throw new Error(`${file} kept ${logits.dims[1]} positions of ${n}`);
    return { data: logits.data, vocab: logits.dims[2]! };
  } finally {
    await session.release();
  }
}

/** Compares a quantized dtype (q8 unless told) with fp32 over the first `maxPositions` tokens of real English text. */
export async function runDtypeStudy(modelDir: string, maxPositions = 1000, dtype: Dtype = 'q8'): Promise<DtypeStudy> {
  const { AutoTokenizer, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  const tokenizer = await AutoTokenizer.from_pretrained(modelDir);
  const ids = tokenizer.encode(await englishText(), { add_special_tokens: false }).slice(0, maxPositions);
  if (ids.length < maxPositions) throw new Error(`the text has only ${ids.length} tokens`);
  const file = (dtype: Dtype): string => path.join(modelDir, onnxFileFor(dtype));

  // One model at a time, and fp32 reduced to log-probabilities first, to bound memory.
  const ref = await allLogits(file('fp32'), ids);
  const n = ids.length;
  const { vocab } = ref;
  const logP = logSoftmaxRows(ref.data, n, vocab);
  const topP = Array.from({ length: n }, (_, r) => argmaxRow(ref.data, r * vocab, vocab));
  const q8 = await allLogits(file(dtype), ids);
  if (q8.vocab !== vocab) throw new Error(`fp32 and ${dtype} disagree on the vocabulary size`);
  const logQ = logSoftmaxRows(q8.data, n, vocab);

  let agree = 0;
  let klSum = 0;
  for (let r = 0; r < n; r++) {
    const o = r * vocab;
    if (argmaxRow(q8.data, o, vocab) === topP[r]) agree++;
    let kl = 0;
    for (let i = 0; i < vocab; i++) {
      const lp = logP[o + i]!;
      kl += Math.exp(lp) * (lp - logQ[o + i]!);
    }
    klSum += kl;
  }
  return { top1Agreement: agree / n, meanKl: klSum / n, positions: n };
}
