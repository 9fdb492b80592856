// The grouped head order of groupedMha's q and o_proj: which Hugging Face head each slot holds, the
// float permutations, and the 4-bit block permutations, which must equal quantizing the permuted
// values (so kept blocks and blocks made here agree). A q4 graph built from kept blocks of whole-block
// heads gives the logits of the same graph quantized from the values.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { groupQ4Columns, groupQ4Rows, groupQueryColumns, groupQueryRows, groupedHeadOrder } from '../../src/graph/groupedQuery.js';
import { llamaKeptQ4 } from '../../src/graph/keptQ4.js';
import { buildLlamaModel } from '../../src/graph/llamaGraph.js';
import { type LlamaDims, llamaLayerParam } from '../../src/graph/llamaWeights.js';
import { generatedLlamaParams } from '../../src/graph/makeLlamaFolder.js';
import type { Q4Source } from '../../src/graph/projection.js';
import { type Q4Matrix, quantizeQ4 } from '../../src/graph/quantize.js';

const ramp = (n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * (1 + (i % 7)));

test('groupedHeadOrder: slot j·kvH + kv holds head kv·group + j', () => {
  assert.deepEqual(groupedHeadOrder(6, 2), [0, 3, 1, 4, 2, 5]);
  assert.deepEqual(groupedHeadOrder(9, 3), [0, 3, 6, 1, 4, 7, 2, 5, 8]);
  assert.deepEqual(groupedHeadOrder(4, 1), [0, 1, 2, 3]);
  assert.deepEqual(groupedHeadOrder(3, 3), [0, 1, 2]);
});

test('groupQueryColumns moves whole heads of q and leaves the k/v columns; groupQueryRows moves whole row spans', () => {
  const shape = { heads: 4, kvHeads: 2, headDim: 2 };
  // Two rows of q (4 heads × 2) then k/v (2 columns).
  const values = Float32Array.from([0, 1, 10, 11, 20, 21, 30, 31, 90, 91, 100, 101, 110, 111, 120, 121, 130, 131, 190, 191]);
  assert.deepEqual(
    [...groupQueryColumns(values, 2, shape)],
    [0, 1, 20, 21, 10, 11, 30, 31, 90, 91, 100, 101, 120, 121, 110, 111, 130, 131, 190, 191],
  );
  const rows = Float32Array.from({ length: 8 * 3 }, (_, i) => i);
  const grouped = groupQueryRows(rows, shape);
  assert.deepEqual([...grouped.subarray(0, 6)], [0, 1, 2, 3, 4, 5]);
  assert.deepEqual([...grouped.subarray(6, 12)], [12, 13, 14, 15, 16, 17], 'slot 1 holds head 2');
});

test('4-bit blocks permuted equal the permuted values quantized, for q columns and o_proj rows (heads of 32 and 64)', () => {
  for (const headDim of [32, 64]) {
    const shape = { heads: 6, kvHeads: 2, headDim };
    const hidden = 64;
    const qkvCols = shape.heads * headDim + 2 * shape.kvHeads * headDim;
    const qkv = ramp(hidden * qkvCols);
    const same = (a: Q4Matrix | null, b: Q4Matrix) => {
      assert.ok(a);
      assert.deepEqual(Buffer.from(a.packed), Buffer.from(b.packed));
      assert.deepEqual(a.scales, b.scales);
    };
    same(groupQ4Columns(quantizeQ4(qkv, hidden, qkvCols), shape), quantizeQ4(groupQueryColumns(qkv, hidden, shape), hidden, qkvCols));
    const o = ramp(shape.heads * headDim * hidden);
    same(
      groupQ4Rows(quantizeQ4(o, shape.heads * headDim, hidden), shape),
      quantizeQ4(groupQueryRows(o, shape), shape.heads * headDim, hidden),
    );
  }
  const half = { heads: 4, kvHeads: 2, headDim: 16 };
  assert.equal(groupQ4Rows(quantizeQ4(ramp(64 * 8), 64, 8), half), null, 'a head of half a block cannot move alone');
});

test('q4 from kept blocks (heads of 32) gives the logits of q4 quantized from the values', async () => {
  const dims: LlamaDims = {
    arch: 'llama',
    layers: 2,
    heads: 4,
    kvHeads: 2,
    headDim: 32,
    hidden: 64,
    inner: 96,
    vocabSize: 200,
    positions: 64,
    rmsNormEps: 1e-5,
    ropeTheta: 10000,
    qkvBias: false,
    tied: true,
  };
  const param = generatedLlamaParams({ dims, seed: 3 });
  const qWidth = dims.heads * dims.headDim;
  const kvWidth = dims.kvHeads * dims.headDim;
  const shapes: Record<string, [number, number]> = {
    'self_attn.q_proj.weight': [dims.hidden, qWidth],
    'self_attn.k_proj.weight': [dims.hidden, kvWidth],
    'self_attn.v_proj.weight': [dims.hidden, kvWidth],
    'self_attn.o_proj.weight': [qWidth, dims.hidden],
  };
  const kept = new Map<string, Q4Matrix>();
  for (let layer = 0; layer < dims.layers; layer++) {
    for (const [suffix, [rows, cols]] of Object.entries(shapes)) {
      const name = llamaLayerParam(layer, suffix);
      kept.set(name, quantizeQ4(param(name), rows, cols));
    }
  }
  const logits = async (keptQ4?: Q4Source) => {
    const model = buildLlamaModel(dims, param, 'q4', keptQ4 ? { keptQ4 } : {});
    const session = await ort.InferenceSession.create(Buffer.concat([...model.encode()]));
    const ids = [5, 9, 13, 2, 7];
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, BigInt), [1, ids.length]),
      attention_mask: new ort.Tensor(
        'int64',
        BigInt64Array.from(ids, () => 1n),
        [1, ids.length],
      ),
      position_ids: new ort.Tensor(
        'int64',
        BigInt64Array.from(ids, (_, i) => BigInt(i)),
        [1, ids.length],
      ),
      num_logits_to_keep: new ort.Tensor('int64', BigInt64Array.of(0n), []),
    };
    for (let i = 0; i < dims.layers; i++) {
      for (const kind of ['key', 'value'])
        feeds[`past_key_values.${i}.${kind}`] = new ort.Tensor('float32', new Float32Array(0), [1, dims.kvHeads, 0, dims.headDim]);
    }
    const out = await session.run(feeds, ['logits']);
    return out['logits']!.data as Float32Array;
  };
  const fromValues = await logits();
  const fromKept = await logits(llamaKeptQ4(kept));
  const diff = fromValues.reduce((m, x, i) => Math.max(m, Math.abs(x - fromKept[i]!)), 0);
  assert.ok(diff < 1e-5, `max |Δ| ${diff}`);
});
