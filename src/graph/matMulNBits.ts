// onnxruntime's com.microsoft MatMulNBits as a projection: Y = A × B with B [K, N] stored per
// output column in blocks along K. Inputs: A; B uint8 [N, blocks, blockSize × bits / 8] (values
// packed little end first); scales [N × blocks] (or [N, blocks]); optional zero points, packed
// uint8 [N, ceil(blocks × bits / 8)] (absent: 2^(bits − 1)); optional g_idx and bias. Here B is read
// dequantized, and the blocks are kept as stored so a 4-bit converter can reuse them.

import { type Constant, type ConstantSource, fail } from './graphReading.js';
import type { OnnxNode } from './onnxReader.js';
import { Q4_BLOCK, type Q4Matrix } from './quantize.js';

export interface NBitsWeight {
  bits: number;
  blockSize: number;
  /** Rows of B (the input width) and columns (the output width). */
  k: number;
  n: number;
  blocks: number;
  /** [N, blocks, blockSize × bits / 8], as stored. */
  packed: Uint8Array;
  /** [N, blocks]. */
  scales: Float32Array;
  /** [N, blocks], unpacked; null when the graph gives none (each is 2^(bits − 1)). */
  zeroPoints: Uint8Array | null;
}

/** The packed value `i` of one block (little end first within each byte). */
function packedValue(packed: Uint8Array, blockStart: number, i: number, bits: number): number {
  const bit = i * bits;
  return (packed[blockStart + (bit >> 3)]! >> (bit & 7)) & ((1 << bits) - 1);
}

/** B dequantized to float, [K, N] row-major: (q − zeroPoint) × scale. */
function dequantizeNBits(w: NBitsWeight): Constant {
  const { k, n, blocks, blockSize, bits, packed, scales, zeroPoints } = w;
  const blob = (blockSize * bits) / 8;
  const out = new Float32Array(k * n);
  const defaultZero = 1 << (bits - 1);
  let step = 0;
  for (let col = 0; col < n; col++) {
    for (let b = 0; b < blocks; b++) {
      const index = col * blocks + b;
      const scale = scales[index]!;
      step = Math.max(step, Math.abs(scale));
      const zero = zeroPoints ? zeroPoints[index]! : defaultZero;
      for (let i = 0; i < blockSize && b * blockSize + i < k; i++) {
        out[(b * blockSize + i) * n + col] = (packedValue(packed, index * blob, i, bits) - zero) * scale;
      }
    }
  }
  return { dims: [k, n], data: out, step };
}

/** Reads a MatMulNBits node's weight; null when B or its scales are not constants. */
export function readMatMulNBits(g: ConstantSource, node: OnnxNode): { weight: Constant; nbits: NBitsWeight } | null {
  const attr = (name: string): number | undefined => node.attributes.get(name)?.i;
  const k = attr('K');
  const n = attr('N');
  const bits = attr('bits') ?? 4;
  const blockSize = attr('block_size');
  if (k === undefined || n === undefined || blockSize === undefined) fail(`MatMulNBits ${node.name} lacks K, N or block_size`);
  if (bits !== 2 && bits !== 4 && bits !== 8) fail(`MatMulNBits ${node.name} has ${bits} bits (2, 4 or 8 are read)`);
  if (blockSize < 16 || (blockSize & (blockSize - 1)) !== 0) fail(`MatMulNBits ${node.name} has block_size ${blockSize}`);
  if (node.inputs[4]) fail(`MatMulNBits ${node.name} has a g_idx (act-order) input`);
  if (node.inputs[5]) fail(`MatMulNBits ${node.name} has a bias input`);
  const b = g.bytesOf(node.inputs[1]!);
  const scaleValues = g.constant(node.inputs[2]!);
  if (!b || !scaleValues) return null;
  const blocks = Math.ceil(k / blockSize);
  const blob = (blockSize * bits) / 8;
  if (b.values.length !== n * blocks * blob) fail(`MatMulNBits ${node.name}: B has ${b.values.length} bytes, not N × blocks × ${blob}`);
  if (scaleValues.data.length !== n * blocks)
    fail(`MatMulNBits ${node.name}: ${scaleValues.data.length} scales for ${n} × ${blocks} blocks`);
  let zeroPoints: Uint8Array | null = null;
  if (node.inputs[3]) {
    const zp = g.bytesOf(node.inputs[3]);
    if (!zp) fail(`MatMulNBits ${node.name} has zero points that are not packed uint8`);
    const perColumn = Math.ceil((blocks * bits) / 8);
    if (zp.values.length !== n * perColumn) fail(`MatMulNBits ${node.name}: ${zp.values.length} zero-point bytes for ${n} columns`);
    zeroPoints = new Uint8Array(n * blocks);
    for (let col = 0; col < n; col++) {
      for (let blk = 0; blk < blocks; blk++)
        zeroPoints[col * blocks + blk] = packedValue(zp.values as Uint8Array, col * perColumn, blk, bits);
    }
  }
  const packed = b.values instanceof Uint8Array ? b.values : new Uint8Array(b.values.buffer, b.values.byteOffset, b.values.length);
  const nbits: NBitsWeight = { bits, blockSize, k, n, blocks, packed, scales: scaleValues.data, zeroPoints };
  return { weight: dequantizeNBits(nbits), nbits };
}

/**
 * Whether the blocks are Parley's own 4-bit scheme (quantize.ts quantizeQ4: 4 bits, blocks of 32,
 * one float scale a block, value = (q − 8) × scale), so a q4 graph can take them unchanged.
 */
export function isParleyQ4(w: NBitsWeight): boolean {
  return w.bits === 4 && w.blockSize === Q4_BLOCK && (w.zeroPoints === null || w.zeroPoints.every((z) => z === 8));
}

/** Output columns [start, start + count) of Parley-scheme blocks, as quantizeQ4 lays them out. */
export function q4Columns(w: NBitsWeight, start: number, count: number): Q4Matrix {
  if (!isParleyQ4(w)) fail('these blocks are not Parley’s 4-bit scheme');
  const blob = Q4_BLOCK / 2;
  return {
    packed: w.packed.slice(start * w.blocks * blob, (start + count) * w.blocks * blob),
    scales: w.scales.slice(start * w.blocks, (start + count) * w.blocks),
    blocks: w.blocks,
  };
}
