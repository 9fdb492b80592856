// Runs a decoder graph on the probe: a fixed prompt in one pass (logits at every position),
// then cached steps one token at a time, carrying present.* as the next past. Any GPT-2-style
// graph works (an export or Parley's own); optional inputs are fed only when declared.

import '../float16Feeds.js';
import * as ort from 'onnxruntime-node';
import { halfToFloat } from '../../graph/halfFloat.js';
import { floatData } from '../decode/float16.js';
import { compareLogits, type LogitStats } from './probeCompare.js';

export const PROBE_PROMPT_TOKENS = 32;
export const PROBE_STEPS = 8;

/** A fixed, spread-out prompt: token ids from a small LCG, below `vocab`. */
export function probePrompt(vocab: number, length = PROBE_PROMPT_TOKENS): number[] {
  const ids: number[] = [];
  let state = 12345;
  for (let i = 0; i < length; i++) {
    state = (state * 1103515245 + 12345) % 2147483648;
    ids.push(state % Math.min(vocab, 50000));
  }
  return ids;
}

function rowsOf(logits: ort.Tensor): Float32Array[] {
  const raw = floatData(logits.data);
  if (!raw || (logits.type !== 'float32' && logits.type !== 'float16')) throw new Error(`probe: logits of type ${logits.type}`);
  // A float16 export (fp16, q4f16) returns float16 logits: compared as float32.
  const data = raw instanceof Float32Array ? raw : Float32Array.from(raw, halfToFloat);
  const vocab = logits.dims[logits.dims.length - 1]!;
  const rows = data.length / vocab;
  return Array.from({ length: rows }, (_, i) => data.slice(i * vocab, (i + 1) * vocab));
}

function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}

/**
 * Logits for every prompt position and for each step. The step tokens are `continuation`
 * when given, else the greedy choice of this graph (so the reference picks them once).
 */
export async function runProbe(
  file: string,
  prompt: readonly number[],
  options: { continuation?: readonly number[]; steps?: number; heads: number; headDim: number; unoptimised?: boolean },
): Promise<{ rows: Float32Array[]; continuation: number[] }> {
  // The export's graph needs no rewriting to be run once: creating its session unoptimised and
  // without pre-packed weights saves time and memory (a third of the session's start here).
  // Its log lines would reach the user's terminal; failures reach us as exceptions.
  const optimised = (): Promise<ort.InferenceSession> =>
    ort.InferenceSession.create(file, { logSeverityLevel: 4, graphOptimizationLevel: 'all' });
  // A float16 graph whose nodes lack CPU float16 kernels (a plain export converted by
  // transformers.js) needs the Casts onnxruntime inserts, which fail to type-check unoptimised.
  const session = options.unoptimised
    ? await ort.InferenceSession.create(file, {
        logSeverityLevel: 4,
        graphOptimizationLevel: 'disabled',
        extra: { session: { disable_prepacking: '1' } },
      }).catch(optimised)
    : await optimised();
  try {
    const inputs = new Set(session.inputNames);
    const layers = session.inputNames.filter((n) => /^past_key_values\.\d+\.key$/.test(n)).length;
    const steps = options.continuation?.length ?? options.steps ?? PROBE_STEPS;
    // The graph's own declared past shape wins over config.json's (which may be wrong).
    let { heads, headDim } = options;
    // fp16 and q4f16 exports take their cache in float16 (an empty one either way).
    let half = false;
    const meta = session.inputMetadata.find((m) => m.name === 'past_key_values.0.key');
    if (meta?.isTensor) {
      const [, h, , d] = meta.shape;
      if (typeof h === 'number' && h > 0) heads = h;
      if (typeof d === 'number' && d > 0) headDim = d;
      half = meta.type === 'float16';
    }
    let past: Record<string, ort.Tensor> = {};
    for (let i = 0; i < layers; i++) {
      for (const kind of ['key', 'value']) {
        past[`past_key_values.${i}.${kind}`] = half
          ? new ort.Tensor('float16', new Uint16Array(0), [1, heads, 0, headDim])
          : new ort.Tensor('float32', new Float32Array(0), [1, heads, 0, headDim]);
      }
    }
    const rows: Float32Array[] = [];
    const continuation: number[] = [];
    let length = 0;
    let ids: readonly number[] = prompt;
    for (let step = 0; step <= steps; step++) {
      const n = ids.length;
      const feeds: Record<string, ort.Tensor> = {
        ...past,
        input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, n]),
        attention_mask: new ort.Tensor('int64', new BigInt64Array(length + n).fill(1n), [1, length + n]),
      };
      if (inputs.has('position_ids')) {
        feeds['position_ids'] = new ort.Tensor(
          'int64',
          BigInt64Array.from({ length: n }, (_, i) => BigInt(length + i)),
          [1, n],
        );
      }
      if (inputs.has('num_logits_to_keep')) feeds['num_logits_to_keep'] = new ort.Tensor('int64', BigInt64Array.of(0n), []);
      if (inputs.has('use_cache_branch')) feeds['use_cache_branch'] = new ort.Tensor('bool', Uint8Array.of(length > 0 ? 1 : 0), [1]);
      const out = await session.run(feeds);
      const got = rowsOf(out['logits']!);
      rows.push(...got);
      length += n;
      past = {};
      for (let i = 0; i < layers; i++) {
        past[`past_key_values.${i}.key`] = out[`present.${i}.key`]!;
        past[`past_key_values.${i}.value`] = out[`present.${i}.value`]!;
      }
      if (step === steps) break;
      const next = options.continuation?.[step] ?? argmax(got[got.length - 1]!);
      continuation.push(next);
      ids = [next];
    }
    return { rows, continuation };
  } finally {
    await session.release();
  }
}

/**
 * `candidate`'s logits against `reference`'s over `prompt` and `steps` cached steps, both fed
 * the tokens the reference picked: how close a converted graph is to the graph it came from.
 */
export async function compareGraphs(
  reference: string,
  candidate: string,
  prompt: readonly number[],
  options: { steps: number; heads: number; headDim: number; unoptimisedReference?: boolean },
): Promise<LogitStats> {
  const { steps, heads, headDim, unoptimisedReference } = options;
  const original = await runProbe(reference, prompt, { steps, heads, headDim, ...(unoptimisedReference ? { unoptimised: true } : {}) });
  const converted = await runProbe(candidate, prompt, { continuation: original.continuation, heads, headDim });
  return compareLogits(original.rows, converted.rows);
}
