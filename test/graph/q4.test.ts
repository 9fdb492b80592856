// The q4 dtype: 4-bit blocks of 32 (MatMulNBits, accuracy_level 4) for attention and MLP,
// the LM head int8. The quantizer's error bound is a property; the generated q4 graph runs
// through the real loader and agrees with fp32.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Q4_BLOCK, quantizeBlock4, quantizeQ4 } from '../../src/graph/quantize.js';
import { loadModel } from '../../src/engine/load/modelLoader.js';
import { compareLogits } from '../../src/engine/load/probeCompare.js';
import { tinyQ4ModelDir } from '../helpers/fixtures.js';
import os from 'node:os';

function dequantize(packed: Uint8Array, scales: Float32Array, rows: number, cols: number): Float32Array {
  const blocks = Math.ceil(rows / Q4_BLOCK);
  const out = new Float32Array(rows * cols);
  for (let c = 0; c < cols; c++) {
    for (let k = 0; k < rows; k++) {
      const b = Math.floor(k / Q4_BLOCK);
      const i = k % Q4_BLOCK;
      const byte = packed[(c * blocks + b) * (Q4_BLOCK / 2) + (i >> 1)]!;
      const q = i % 2 === 0 ? byte & 15 : byte >> 4;
      out[k * cols + c] = (q - 8) * scales[c * blocks + b]!;
    }
  }
  return out;
}

test('q4 blocks: a value comes back within half a step (step = largest |value| / 8), or one step where it clips at +7', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 70 }),
      fc.integer({ min: 1, max: 4 }),
      fc.array(fc.float({ min: -4, max: 4, noNaN: true }), { minLength: 280, maxLength: 280 }),
      (rows, cols, pool) => {
        const matrix = Float32Array.from({ length: rows * cols }, (_, i) => pool[i % pool.length]!);
        const q = quantizeQ4(matrix, rows, cols);
        const back = dequantize(q.packed, q.scales, rows, cols);
        for (let c = 0; c < cols; c++) {
          for (let b = 0; b * Q4_BLOCK < rows; b++) {
            let extreme = 0;
            for (let k = b * Q4_BLOCK; k < Math.min(rows, (b + 1) * Q4_BLOCK); k++)
              extreme = Math.max(extreme, Math.abs(matrix[k * cols + c]!));
            for (let k = b * Q4_BLOCK; k < Math.min(rows, (b + 1) * Q4_BLOCK); k++) {
              const value = matrix[k * cols + c]!;
              const error = Math.abs(back[k * cols + c]! - value);
              // The extreme maps to −8; a value of the other sign beyond 7 steps clips to +7.
              const clips = Math.abs(value) > (extreme * 7.5) / 8;
              const bound = clips ? extreme / 8 : extreme / 16;
              assert.ok(error <= bound * (1 + 1e-5) + 1e-6, `error ${error} for ${value} in a block whose largest |value| is ${extreme}`);
            }
          }
        }
      },
    ),
  );
});

test('q4 block layouts: interleaved pairs (MatMulNBits) and split halves (GGUF Q4_0)', () => {
  const values = Float32Array.from({ length: 32 }, (_, i) => i - 16);
  const interleaved = new Uint8Array(16);
  const split = new Uint8Array(16);
  const scale = quantizeBlock4(values, interleaved, 0, 'interleaved');
  assert.equal(quantizeBlock4(values, split, 0, 'split'), scale);
  assert.equal(scale, 2); // −16 maps to −8
  assert.equal(interleaved[0], 0 | (1 << 4)); // elements 0 and 1: −16 → 0, −15 → round(−7.5)+8 = 1 (ties away)
  assert.equal(split[0]! & 15, 0); // element 0
  assert.equal(split[0]! >> 4, 8); // element 16: 0 → 8
});

test('the generated q4 graph loads by --dtype q4 and agrees with fp32 on most next tokens', async () => {
  const folder = await tinyQ4ModelDir();
  const rows: Record<string, Float32Array[]> = {};
  for (const dtype of ['fp32', 'q4'] as const) {
    const model = await loadModel({ kind: 'folder', path: folder }, { dtype, offline: true, cacheDir: os.tmpdir() }, () => {});
    try {
      assert.equal(model.info.dtype, dtype);
      assert.equal(model.info.graph, undefined, "a generated folder is already Parley's graph");
      let cache = model.decoder.emptyCache();
      rows[dtype] = [];
      for (const id of [464, 2068, 7586, 21831, 18045, 625, 262, 16931, 3290, 13]) {
        const step = await model.decoder.forward([id], cache);
        cache = step.cache;
        rows[dtype]!.push(step.logits);
      }
    } finally {
      await model.release();
    }
  }
  const stats = compareLogits(rows['fp32']!, rows['q4']!);
  assert.ok(stats.top1 >= 0.7, `top-1 agreement ${stats.top1}`);
  assert.ok(stats.meanKl < 0.05, `mean KL ${stats.meanKl}`);
});
