// Parley's Llama-family graph against an independent forward pass (test/helpers/qwen2Reference.ts:
// RMSNorm, rotate_half rotary, grouped-query attention, SwiGLU, q/k/v biases), its attention
// variants against each other with a KV cache, right-padded batches against rows run alone (the
// batcher's layout), the new_key_values rows against present.*, and q8/q4 against fp32.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { buildLlamaModel } from '../../src/graph/llamaGraph.js';
import type { AttentionKind } from '../../src/graph/llamaAttention.js';
import { type LlamaDims, llamaLayerParam } from '../../src/graph/llamaWeights.js';
import { generatedLlamaParams } from '../../src/graph/makeLlamaFolder.js';
import type { Precision } from '../../src/graph/projection.js';
import { type Qwen2Weights, qwen2Reference } from '../helpers/qwen2Reference.js';

const DIMS: LlamaDims = {
  arch: 'qwen2',
  layers: 2,
  heads: 6,
  kvHeads: 2,
  headDim: 8,
  hidden: 48,
  inner: 80,
  vocabSize: 300,
  positions: 64,
  rmsNormEps: 1e-6,
  ropeTheta: 10000,
  qkvBias: true,
  tied: true,
};
const param = generatedLlamaParams({ dims: DIMS, seed: 5 });
const sessions = new Map<string, Promise<ort.InferenceSession>>();

function session(precision: Precision, attention: AttentionKind = 'twoPart'): Promise<ort.InferenceSession> {
  const key = `${precision}-${attention}`;
  let s = sessions.get(key);
  if (!s) {
    s = ort.InferenceSession.create(Buffer.concat([...buildLlamaModel(DIMS, param, precision, { attention }).encode()]));
    sessions.set(key, s);
  }
  return s;
}

const int64 = (rows: readonly (readonly number[])[]) =>
  new ort.Tensor('int64', BigInt64Array.from(rows.flat(), BigInt), [rows.length, rows[0]!.length]);

type Past = Record<string, ort.Tensor>;
function emptyPast(batch: number): Past {
  const past: Past = {};
  for (let i = 0; i < DIMS.layers; i++) {
    for (const kind of ['key', 'value'])
      past[`past_key_values.${i}.${kind}`] = new ort.Tensor('float32', new Float32Array(0), [batch, DIMS.kvHeads, 0, DIMS.headDim]);
  }
  return past;
}

async function run(
  s: ort.InferenceSession,
  ids: readonly (readonly number[])[],
  mask: readonly (readonly number[])[],
  positions: readonly (readonly number[])[],
  past: Past,
) {
  const out = await s.run({
    input_ids: int64(ids),
    attention_mask: int64(mask),
    position_ids: int64(positions),
    num_logits_to_keep: new ort.Tensor('int64', BigInt64Array.from([0n]), []),
    ...past,
  });
  const present: Past = {};
  for (let i = 0; i < DIMS.layers; i++)
    for (const kind of ['key', 'value']) present[`past_key_values.${i}.${kind}`] = out[`present.${i}.${kind}`]!;
  return { out, logits: out['logits']!.data as Float32Array, present };
}

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

const PROMPT = [17, 200, 5, 99, 123, 42, 7];

test('fp32 logits equal a plain forward pass (RMSNorm, rotary, grouped-query attention, SwiGLU, biases, tied head)', async () => {
  const at = (layer: number, suffix: string) => param(llamaLayerParam(layer, suffix));
  const weights: Qwen2Weights = {
    embedding: param('model.embed_tokens.weight'),
    finalNorm: param('model.norm.weight'),
    layers: Array.from({ length: DIMS.layers }, (_, i) => ({
      inputNorm: at(i, 'input_layernorm.weight'),
      postNorm: at(i, 'post_attention_layernorm.weight'),
      q: at(i, 'self_attn.q_proj.weight'),
      k: at(i, 'self_attn.k_proj.weight'),
      v: at(i, 'self_attn.v_proj.weight'),
      o: at(i, 'self_attn.o_proj.weight'),
      gate: at(i, 'mlp.gate_proj.weight'),
      up: at(i, 'mlp.up_proj.weight'),
      down: at(i, 'mlp.down_proj.weight'),
      qBias: at(i, 'self_attn.q_proj.bias'),
      kBias: at(i, 'self_attn.k_proj.bias'),
      vBias: at(i, 'self_attn.v_proj.bias'),
    })),
  };
  const config = {
    layers: DIMS.layers,
    heads: DIMS.heads,
    kvHeads: DIMS.kvHeads,
    hidden: DIMS.hidden,
    intermediate: DIMS.inner,
    vocabSize: DIMS.vocabSize,
    ropeTheta: DIMS.ropeTheta,
    rmsNormEps: DIMS.rmsNormEps,
  };
  const reference = qwen2Reference(weights, config, PROMPT);
  const { logits } = await run(await session('fp32'), [PROMPT], [PROMPT.map(() => 1)], [PROMPT.map((_, i) => i)], emptyPast(1));
  const expected = new Float32Array(reference.length * DIMS.vocabSize);
  reference.forEach((row, i) => expected.set(row, i * DIMS.vocabSize));
  assert.ok(maxDiff(logits, expected) < 1e-4, `max |Δ| ${maxDiff(logits, expected)}`);
});

test('every attention variant gives the same logits with a KV cache as over the whole prompt; new rows are the post-rotary keys of present', async () => {
  const whole = (await run(await session('fp32'), [PROMPT], [PROMPT.map(() => 1)], [PROMPT.map((_, i) => i)], emptyPast(1))).logits;
  const V = DIMS.vocabSize;
  for (const attention of ['twoPart', 'concat', 'gqa', 'mha', 'groupedMha'] as const) {
    const s = await session('fp32', attention);
    const first = await run(s, [PROMPT.slice(0, 4)], [[1, 1, 1, 1]], [[0, 1, 2, 3]], emptyPast(1));
    const rest = await run(s, [PROMPT.slice(4)], [PROMPT.map(() => 1)], [[4, 5, 6]], first.present);
    assert.ok(maxDiff(rest.logits, whole.subarray(4 * V)) < 1e-4, `${attention}: cached steps`);
    // new_key_values.0.key [1, 3, kvH·hd] is present.0.key [1, kvH, 7, hd]'s last three positions.
    const rows = rest.out['new_key_values.0.key']!.data as Float32Array;
    const present = rest.out['present.0.key']!.data as Float32Array;
    const { kvHeads, headDim } = DIMS;
    for (let s2 = 0; s2 < 3; s2++) {
      for (let h = 0; h < kvHeads; h++) {
        for (let d = 0; d < headDim; d++) assert.equal(rows[(s2 * kvHeads + h) * headDim + d], present[(h * 7 + 4 + s2) * headDim + d]);
      }
    }
  }
});

test("a right-padded batch (the batcher's layout: padded past, padded new rows) gives each row's logits alone", async () => {
  for (const attention of ['twoPart', 'concat', 'mha', 'groupedMha'] as const) {
    const s = await session('fp32', attention);
    const a = await run(s, [[3, 4, 5, 6, 7]], [[1, 1, 1, 1, 1]], [[0, 1, 2, 3, 4]], emptyPast(1));
    const b = await run(s, [[9, 10, 11]], [[1, 1, 1]], [[0, 1, 2]], emptyPast(1));
    const aNext = await run(s, [[20, 21]], [[1, 1, 1, 1, 1, 1, 1]], [[5, 6]], a.present);
    const bNext = await run(s, [[30]], [[1, 1, 1, 1]], [[3]], b.present);
    const past: Past = {};
    const { kvHeads, headDim } = DIMS;
    for (const [name, tensor] of Object.entries(a.present)) {
      const other = b.present[name]!.data as Float32Array;
      const data = new Float32Array(2 * kvHeads * 5 * headDim);
      data.set(tensor.data as Float32Array);
      for (let h = 0; h < kvHeads; h++) data.set(other.subarray(h * 3 * headDim, (h + 1) * 3 * headDim), (kvHeads + h) * 5 * headDim);
      past[name] = new ort.Tensor('float32', data, [2, kvHeads, 5, headDim]);
    }
    const batch = await run(
      s,
      [
        [20, 21],
        [30, 0],
      ],
      [
        [1, 1, 1, 1, 1, 1, 1],
        [1, 1, 1, 0, 0, 1, 0],
      ],
      [
        [5, 6],
        [3, 4],
      ],
      past,
    );
    const V = DIMS.vocabSize;
    assert.ok(maxDiff(batch.logits.subarray(0, 2 * V), aNext.logits) < 1e-5, `${attention}: row a`);
    assert.ok(maxDiff(batch.logits.subarray(2 * V, 3 * V), bNext.logits) < 1e-5, `${attention}: row b`);
  }
});

test('q8 and q4 graphs stay close to fp32 (same greedy choice at most positions)', async () => {
  const feeds = [[PROMPT], [PROMPT.map(() => 1)], [PROMPT.map((_, i) => i)]] as const;
  const fp32 = (await run(await session('fp32'), ...feeds, emptyPast(1))).logits;
  const V = DIMS.vocabSize;
  const argmax = (x: Float32Array, row: number) => {
    let best = 0;
    for (let i = 1; i < V; i++) if (x[row * V + i]! > x[row * V + best]!) best = i;
    return best;
  };
  // groupedMha's graphs hold q and o_proj in its own head order: quantized so, they must still agree.
  for (const attention of ['twoPart', 'groupedMha'] as const) {
    for (const precision of ['q8', 'q4'] as const) {
      const logits = (await run(await session(precision, attention), ...feeds, emptyPast(1))).logits;
      const agree = PROMPT.filter((_, row) => argmax(logits, row) === argmax(fp32, row)).length;
      const label = `${precision} ${attention}`;
      assert.ok(agree >= PROMPT.length - 2, `${label}: ${agree}/${PROMPT.length} greedy choices agree`);
      assert.ok(maxDiff(logits, fp32) < 0.05, `${label}: max |Δ| ${maxDiff(logits, fp32)}`);
    }
  }
});
