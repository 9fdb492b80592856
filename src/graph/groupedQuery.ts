// The query heads in grouped order for the groupedMha attention: Hugging Face's q_proj writes
// head h = kv·group + j (the query heads of one KV head side by side); Parley's graph stores
// q_proj's output columns, q's bias and o_proj's input rows with head j·kvH + kv in that slot
// instead. A [b, s, H·hd] query is then [b, s·group, kvH·hd] as it is (row i·group + j is query
// head j of every KV head at position i), and the attention's output likewise is o_proj's input
// as it is: no Transpose of q or of the output. Each head keeps its own hd values in order, so
// RotaryEmbedding still rotates each head as before. Applied to the values (fp32 / q8, and q4
// quantized here) and to kept 4-bit blocks alike (llamaGraph.ts applies them by name).

import type { LlamaDims } from './llamaWeights.js';
import { Q4_BLOCK, type Q4Matrix } from './quantize.js';

type HeadShape = Pick<LlamaDims, 'heads' | 'kvHeads' | 'headDim'>;

/** For each head slot of the grouped order, the Hugging Face head it holds. */
export function groupedHeadOrder(heads: number, kvHeads: number): number[] {
  const group = heads / kvHeads;
  return Array.from({ length: heads }, (_, slot) => (slot % kvHeads) * group + Math.floor(slot / kvHeads));
}

/** Whether the grouped order differs from Hugging Face's (one KV head, or one query head per KV head: it does not). */
export function reordersHeads(shape: HeadShape): boolean {
  return shape.kvHeads > 1 && shape.heads > shape.kvHeads;
}

/** Row-major [rows, cols]: the first heads·hd columns in the grouped order, the rest as they are. */
export function groupQueryColumns(values: Float32Array, rows: number, shape: HeadShape): Float32Array {
  const cols = values.length / rows;
  const order = groupedHeadOrder(shape.heads, shape.kvHeads);
  const hd = shape.headDim;
  const out = values.slice();
  for (let r = 0; r < rows; r++) {
    const row = r * cols;
    order.forEach((head, slot) => out.set(values.subarray(row + head * hd, row + (head + 1) * hd), row + slot * hd));
  }
  return out;
}

/** Row-major [heads·hd, cols]: the rows in the grouped order. */
export function groupQueryRows(values: Float32Array, shape: HeadShape): Float32Array {
  const span = (values.length / shape.heads) | 0;
  const out = new Float32Array(values.length);
  groupedHeadOrder(shape.heads, shape.kvHeads).forEach((head, slot) =>
    out.set(values.subarray(head * span, (head + 1) * span), slot * span),
  );
  return out;
}

/** MatMulNBits blocks ([N, blocks, 16], column-major in N): the first heads·hd columns in the grouped order. */
export function groupQ4Columns(matrix: Q4Matrix, shape: HeadShape): Q4Matrix {
  const columnBytes = matrix.blocks * (Q4_BLOCK / 2);
  const hd = shape.headDim;
  const packed = matrix.packed.slice();
  const scales = matrix.scales.slice();
  groupedHeadOrder(shape.heads, shape.kvHeads).forEach((head, slot) => {
    packed.set(matrix.packed.subarray(head * hd * columnBytes, (head + 1) * hd * columnBytes), slot * hd * columnBytes);
    scales.set(matrix.scales.subarray(head * hd * matrix.blocks, (head + 1) * hd * matrix.blocks), slot * hd * matrix.blocks);
  });
  return { packed, scales, blocks: matrix.blocks };
}

/** Whether each head spans whole 4-bit blocks along K, so o_proj's kept blocks can move by head. */
export function headsAreWholeQ4Blocks(shape: Pick<HeadShape, 'headDim'>): boolean {
  return shape.headDim % Q4_BLOCK === 0;
}

/** MatMulNBits blocks over K = heads·hd: each column's blocks in the grouped head order; null unless a head is whole blocks. */
export function groupQ4Rows(matrix: Q4Matrix, shape: HeadShape): Q4Matrix | null {
  if (!headsAreWholeQ4Blocks(shape) || matrix.blocks * Q4_BLOCK !== shape.heads * shape.headDim) return null;
  const perHead = shape.headDim / Q4_BLOCK;
  const blockBytes = Q4_BLOCK / 2;
  const columns = matrix.scales.length / matrix.blocks;
  const order = groupedHeadOrder(shape.heads, shape.kvHeads);
  const packed = new Uint8Array(matrix.packed.length);
  const scales = new Float32Array(matrix.scales.length);
  for (let n = 0; n < columns; n++) {
    const first = n * matrix.blocks;
    order.forEach((head, slot) => {
      const from = first + head * perHead;
      const to = first + slot * perHead;
      packed.set(matrix.packed.subarray(from * blockBytes, (from + perHead) * blockBytes), to * blockBytes);
      scales.set(matrix.scales.subarray(from, from + perHead), to);
    });
  }
  return { packed, scales, blocks: matrix.blocks };
}
