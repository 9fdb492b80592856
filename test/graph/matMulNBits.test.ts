// MatMulNBits read as a projection: B's packed values (little end first), per-block scales and packed
// zero points dequantize to [K, N]; only 4 bits, blocks of 32 and zero point 8 count as Parley's own
// 4-bit scheme; what the reader cannot take is refused with the reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GraphIndex, asLinear } from '../../src/graph/exportGraph.js';
import { UnrecognisedGraph } from '../../src/graph/graphReading.js';
import { isParleyQ4, q4Columns } from '../../src/graph/matMulNBits.js';
import type { OnnxAttribute, OnnxModel, OnnxNode, OnnxTensor } from '../../src/graph/onnxReader.js';

const tensor = (name: string, dims: number[], dataType: number, bytes: Uint8Array): OnnxTensor => ({
  name,
  dims,
  dataType,
  bytes: () => bytes,
  floatData: [],
  int32Data: [],
  int64Data: [],
});
const floats = (values: number[]): Uint8Array => new Uint8Array(Float32Array.from(values).buffer);

function model(
  k: number,
  n: number,
  bits: number,
  blockSize: number,
  b: Uint8Array,
  scales: number[],
  zeroPoints?: Uint8Array,
  extra: string[] = [],
): OnnxModel {
  const blocks = Math.ceil(k / blockSize);
  const attributes = new Map<string, OnnxAttribute>(
    Object.entries({ K: k, N: n, bits, block_size: blockSize }).map(([name, i]) => [name, { name, i }]),
  );
  const node: OnnxNode = {
    opType: 'MatMulNBits',
    domain: 'com.microsoft',
    name: 'proj',
    inputs: ['x', 'B', 'scales', zeroPoints ? 'zp' : '', ...extra],
    outputs: ['y'],
    attributes,
  };
  const initializers = new Map<string, OnnxTensor>([
    ['B', tensor('B', [n, blocks, (blockSize * bits) / 8], 2, b)],
    ['scales', tensor('scales', [scales.length], 1, floats(scales))],
  ]);
  if (zeroPoints) initializers.set('zp', tensor('zp', [zeroPoints.length], 2, zeroPoints));
  return { nodes: [node], initializers, inputs: ['x'], outputs: ['y'] };
}

test('4 bits, blocks of 16, packed zero points: (q − zero) × scale, B as [K, N]', () => {
  // K 20 → 2 blocks per column (the second holds 4 values); N 2.
  const k = 20;
  const q = (col: number, i: number): number => (i * 3 + col * 5) % 16;
  const b = new Uint8Array(2 * 2 * 8);
  for (let col = 0; col < 2; col++) {
    for (let i = 0; i < 32; i++) {
      const value = i < k ? q(col, i) : 0;
      b[col * 16 + (i >> 1)]! |= value << ((i & 1) * 4);
    }
  }
  const scales = [0.5, -0.25, 2, 0.125]; // (col 0: blocks 0, 1), (col 1: blocks 0, 1)
  const zeros = [3, 9, 8, 1];
  const zp = Uint8Array.of(zeros[0]! | (zeros[1]! << 4), zeros[2]! | (zeros[3]! << 4));
  const g = new GraphIndex(model(k, 2, 4, 16, b, scales, zp));
  const linear = asLinear(g, g.model.nodes[0]!)!;
  assert.deepEqual(linear.weight.dims, [k, 2]);
  for (let i = 0; i < k; i++) {
    for (let col = 0; col < 2; col++) {
      const block = col * 2 + (i >> 4);
      assert.equal(linear.weight.data[i * 2 + col], (q(col, i) - zeros[block]!) * scales[block]!, `[${i}, ${col}]`);
    }
  }
  assert.equal(linear.weight.step, 2);
  assert.equal(isParleyQ4(linear.nbits!), false, 'blocks of 16 and other zero points');
});

test('8 bits without zero points: zero point 128', () => {
  const b = Uint8Array.from({ length: 32 }, (_, i) => i * 8);
  const g = new GraphIndex(model(32, 1, 8, 32, b, [0.01]));
  const linear = asLinear(g, g.model.nodes[0]!)!;
  assert.ok(Math.abs(linear.weight.data[0]! - -1.28) < 1e-6);
  assert.ok(Math.abs(linear.weight.data[31]! - (248 - 128) * 0.01) < 1e-6);
  assert.equal(isParleyQ4(linear.nbits!), false);
});

test('4 bits, blocks of 32, no zero points: Parley’s scheme, its columns kept as stored', () => {
  const b = Uint8Array.from({ length: 3 * 16 }, (_, i) => (i * 37) & 0xff);
  const g = new GraphIndex(model(32, 3, 4, 32, b, [1, 2, 3]));
  const nbits = asLinear(g, g.model.nodes[0]!)!.nbits!;
  assert.equal(isParleyQ4(nbits), true);
  const middle = q4Columns(nbits, 1, 1);
  assert.deepEqual([...middle.packed], [...b.subarray(16, 32)]);
  assert.deepEqual([...middle.scales], [2]);
  assert.equal(middle.blocks, 1);
});

test('what cannot be read is refused with the reason', () => {
  const b = new Uint8Array(16);
  const refused = (m: OnnxModel, reason: RegExp): void => {
    const g = new GraphIndex(m);
    assert.throws(
      () => asLinear(g, m.nodes[0]!),
      (err: unknown) => err instanceof UnrecognisedGraph && reason.test(err.message),
    );
  };
  refused(model(32, 1, 4, 32, b, [1], undefined, ['gidx']), /g_idx/);
  refused(model(32, 1, 4, 32, b, [1], undefined, ['', 'bias']), /bias/);
  refused(model(32, 1, 3, 32, b, [1]), /3 bits/);
  refused(model(32, 1, 4, 32, b, [1, 2]), /2 scales for 1 × 1 blocks/);
  refused(model(64, 1, 4, 32, b, [1, 2]), /B has 16 bytes/);
});
