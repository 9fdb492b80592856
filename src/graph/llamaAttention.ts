// Grouped-query attention for the Llama-family graph, in the variants compared for decode
// speed (see docs in llamaGraph.ts). Every variant takes the post-rotary rows q [b, s, H·hd],
// k and v [b, s, kvH·hd], the layer's past [b, kvH, P, hd] and the additive mask, and
// returns the attention output [b, s, H·hd]; present.* are the past with the new rows after.
//
// Query head h reads key/value head floor(h / group) (Hugging Face's repeat_kv), so the
// query heads of one KV head are adjacent: q viewed as [b, s, kvH, group, hd].

import { GraphBuilder, float, int, ints } from './onnxGraph.js';
import { MS_DOMAIN } from './projection.js';

/**
 * - twoPart: scores against the past and against the new rows as two FusedMatMuls (transB,
 *   no transposed copy, no Concat of the cache for the scores), one softmax over both. present.*
 *   still cost their Concat every step: onnxruntime runs every node, fetched or not.
 * - concat: the same grouped maths over Concat(past, new), which present.* reuse.
 * - gqa: onnxruntime's GroupQueryAttention (do_rotary 0), the mask as attention_bias.
 * - mha: MultiHeadAttention with past and new K/V expanded to every query head.
 * - groupedMha: MultiHeadAttention with one head per KV head, each KV head's query heads as
 *   its query rows (s·group of them, the mask repeated per row as attention_bias): the cache is
 *   never expanded and the append is inside the one node. Its q comes in groupedQuery.ts's head
 *   order (and o_proj takes its output in that order), so q and the output are reshaped only.
 */
export type AttentionKind = 'twoPart' | 'concat' | 'gqa' | 'mha' | 'groupedMha';
export const ATTENTION_KINDS: readonly AttentionKind[] = ['twoPart', 'concat', 'gqa', 'mha', 'groupedMha'];

/** Whether the variant takes q (and gives its output) in groupedQuery.ts's head order rather than Hugging Face's. */
export function groupsQueryHeads(kind: AttentionKind): boolean {
  return kind === 'groupedMha';
}

export interface AttentionShape {
  heads: number;
  kvHeads: number;
  headDim: number;
  /** groupedMha: give the output in Hugging Face's head order, for an o_proj whose rows could not be reordered. */
  hfOrderOutput?: boolean;
}

/** Values computed once per run and shared by every layer. */
export interface AttentionContext {
  /** [b, 1, s, T] additive mask (0 or the lowest float). */
  bias: string;
  /** [b, 1, group·s, T]: the mask for the grouped query rows (row j·s + i is position i's). */
  groupedBias: () => string;
  /** [b, 1, s·group, T]: the mask repeated per row (row i·group + j is position i's). */
  repeatedBias: () => string;
  /** int64 [1] each. */
  pastLen: string;
  seqLen: string;
  /** int32 [b] and int32 scalar: GroupQueryAttention's per-row lengths (every row the full T; padding via the bias). */
  gqaLengths: () => { seqlensK: string; total: string };
}

export interface LayerAttention {
  q: string;
  k: string;
  v: string;
  pastKey: string;
  pastValue: string;
  presentKey: string;
  presentValue: string;
}

export function attentionContext(g: GraphBuilder, shape: AttentionShape, bias: string, pastLen: string, seqLen: string): AttentionContext {
  const group = shape.heads / shape.kvHeads;
  let grouped: string | undefined;
  let repeated: string | undefined;
  let lengths: { seqlensK: string; total: string } | undefined;
  return {
    bias,
    pastLen,
    seqLen,
    groupedBias: () => (grouped ??= group === 1 ? bias : g.op('Tile', [bias, g.int64s([1, 1, group, 1])])),
    repeatedBias: () => {
      if (group === 1) return bias;
      if (repeated) return repeated;
      // [b, 1, s, T] → [b, 1, s, group, T] → [b, 1, s·group, T]; once a step, shared by every layer.
      const target = g.op('Mul', [g.op('Shape', [bias]), g.int64s([1, 1, group, 1])]);
      const expanded = g.op('Expand', [g.op('Unsqueeze', [bias, g.int64s([3])]), g.int64s([1, 1, 1, group, 1])]);
      repeated = g.op('Reshape', [expanded, target]);
      return repeated;
    },
    gqaLengths: () => {
      if (lengths) return lengths;
      const total = g.op('Add', [pastLen, seqLen]);
      const batch = g.op('Slice', [g.op('Shape', [bias]), g.int64s([0]), g.int64s([1])]);
      const lastIndex = g.op('Sub', [total, g.int64s([1])]);
      const perRow = g.op('Expand', [lastIndex, batch]);
      const toInt32 = { attributes: { to: int(6) } };
      lengths = { seqlensK: g.op('Cast', [perRow], toInt32), total: g.op('Cast', [g.op('Squeeze', [total])], toInt32) };
      return lengths;
    },
  };
}

export function buildAttention(
  g: GraphBuilder,
  kind: AttentionKind,
  shape: AttentionShape,
  ctx: AttentionContext,
  l: LayerAttention,
): string {
  switch (kind) {
    case 'gqa':
      return gqaAttention(g, shape, ctx, l);
    case 'mha':
      return mhaAttention(g, shape, ctx, l);
    case 'groupedMha':
      return groupedMhaAttention(g, shape, ctx, l);
    default:
      return groupedAttention(g, kind === 'twoPart', shape, ctx, l);
  }
}

/** [b, s, n·hd] → [b, n, s, hd]. */
function toHeads(g: GraphBuilder, x: string, n: number, headDim: number): string {
  const split = g.op('Reshape', [x, g.int64s([0, 0, n, headDim])]);
  return g.op('Transpose', [split], { attributes: { perm: ints([0, 2, 1, 3]) } });
}

function groupedAttention(g: GraphBuilder, twoPart: boolean, shape: AttentionShape, ctx: AttentionContext, l: LayerAttention): string {
  const { heads, kvHeads, headDim } = shape;
  const group = heads / kvHeads;
  const scale = { domain: MS_DOMAIN, attributes: { transB: int(1), alpha: float(1 / Math.sqrt(headDim)) } };
  // q [b, s, kvH, group, hd] → [b, kvH, group, s, hd] → [b, kvH, group·s, hd].
  const q5 = g.op('Reshape', [l.q, g.int64s([0, 0, kvHeads, group, headDim])]);
  const qGrouped = g.op('Reshape', [
    g.op('Transpose', [q5], { attributes: { perm: ints([0, 2, 3, 1, 4]) } }),
    g.int64s([0, kvHeads, -1, headDim]),
  ]);
  const kNew = toHeads(g, l.k, kvHeads, headDim);
  const vNew = toHeads(g, l.v, kvHeads, headDim);
  const axis2 = { attributes: { axis: int(2) } };
  let context: string;
  if (twoPart) {
    g.node('Concat', [l.pastKey, kNew], { ...axis2, outputs: [l.presentKey] });
    g.node('Concat', [l.pastValue, vNew], { ...axis2, outputs: [l.presentValue] });
    const pastScores = g.op('FusedMatMul', [qGrouped, l.pastKey], scale);
    const newScores = g.op('FusedMatMul', [qGrouped, kNew], scale);
    const scores = g.op('Concat', [pastScores, newScores], { attributes: { axis: int(-1) } });
    const probs = g.op('Softmax', [g.op('Add', [scores, ctx.groupedBias()])], { attributes: { axis: int(-1) } });
    const sizes = g.op('Concat', [ctx.pastLen, ctx.seqLen], { attributes: { axis: int(0) } });
    const [pastProbs, newProbs] = g.node('Split', [probs, sizes], { attributes: { axis: int(-1) }, outputCount: 2 });
    context = g.op('Add', [g.op('MatMul', [pastProbs!, l.pastValue]), g.op('MatMul', [newProbs!, vNew])]);
  } else {
    const keys = g.op('Concat', [l.pastKey, kNew], { ...axis2, outputs: [l.presentKey] });
    const values = g.op('Concat', [l.pastValue, vNew], { ...axis2, outputs: [l.presentValue] });
    const scores = g.op('FusedMatMul', [qGrouped, keys], scale);
    const probs = g.op('Softmax', [g.op('Add', [scores, ctx.groupedBias()])], { attributes: { axis: int(-1) } });
    context = g.op('MatMul', [probs, values]);
  }
  // [b, kvH, group·s, hd] → [b, kvH, group, s, hd] → [b, s, kvH, group, hd] → [b, s, H·hd].
  const split = g.op('Reshape', [context, g.int64s([0, 0, group, -1, headDim])]);
  const rows = g.op('Transpose', [split], { attributes: { perm: ints([0, 3, 1, 2, 4]) } });
  return g.op('Reshape', [rows, g.int64s([0, 0, heads * headDim])]);
}

function gqaAttention(g: GraphBuilder, shape: AttentionShape, ctx: AttentionContext, l: LayerAttention): string {
  const { seqlensK, total } = ctx.gqaLengths();
  const [output] = g.node('GroupQueryAttention', [l.q, l.k, l.v, l.pastKey, l.pastValue, seqlensK, total, '', '', '', ctx.bias], {
    domain: MS_DOMAIN,
    attributes: {
      num_heads: int(shape.heads),
      kv_num_heads: int(shape.kvHeads),
      do_rotary: int(0),
      scale: float(1 / Math.sqrt(shape.headDim)),
    },
    outputs: [g.freshName('attention'), l.presentKey, l.presentValue],
  });
  return output!;
}

/** K/V heads repeated to every query head: [b, kvH, T, hd] → [b, H, T, hd]. */
function expandHeads(g: GraphBuilder, x: string, shape: AttentionShape): string {
  const group = shape.heads / shape.kvHeads;
  if (group === 1) return x;
  const five = g.op('Unsqueeze', [x, g.int64s([2])]);
  const dims = g.op('Shape', [five]);
  const target = g.op('Mul', [dims, g.int64s([1, 1, group, 1, 1])]);
  return g.op('Reshape', [g.op('Expand', [five, target]), g.int64s([0, shape.heads, -1, shape.headDim])]);
}

/** New rows repeated to every query head: [b, s, kvH·hd] → [b, s, H·hd]. */
function expandRows(g: GraphBuilder, x: string, shape: AttentionShape): string {
  const group = shape.heads / shape.kvHeads;
  if (group === 1) return x;
  const five = g.op('Reshape', [x, g.int64s([0, 0, shape.kvHeads, 1, shape.headDim])]);
  const dims = g.op('Shape', [five]);
  const target = g.op('Mul', [dims, g.int64s([1, 1, 1, group, 1])]);
  return g.op('Reshape', [g.op('Expand', [five, target]), g.int64s([0, 0, shape.heads * shape.headDim])]);
}

function mhaAttention(g: GraphBuilder, shape: AttentionShape, ctx: AttentionContext, l: LayerAttention): string {
  const { kvHeads, headDim } = shape;
  const axis2 = { attributes: { axis: int(2) } };
  g.node('Concat', [l.pastKey, toHeads(g, l.k, kvHeads, headDim)], { ...axis2, outputs: [l.presentKey] });
  g.node('Concat', [l.pastValue, toHeads(g, l.v, kvHeads, headDim)], { ...axis2, outputs: [l.presentValue] });
  const [output] = g.node(
    'MultiHeadAttention',
    [
      l.q,
      expandRows(g, l.k, shape),
      expandRows(g, l.v, shape),
      '',
      '',
      ctx.bias,
      expandHeads(g, l.pastKey, shape),
      expandHeads(g, l.pastValue, shape),
    ],
    {
      domain: MS_DOMAIN,
      attributes: { num_heads: int(shape.heads) },
      // Without present outputs onnxruntime's MultiHeadAttention ignores the past: they are asked for and left unused.
      outputs: [g.freshName('attention'), g.freshName('expanded_present_key'), g.freshName('expanded_present_value')],
    },
  );
  return output!;
}

function groupedMhaAttention(g: GraphBuilder, shape: AttentionShape, ctx: AttentionContext, l: LayerAttention): string {
  const { heads, kvHeads, headDim } = shape;
  // q [b, s, group·kvH·hd] in the grouped head order is [b, s·group, kvH·hd]: row i·group + j.
  const query = g.op('Reshape', [l.q, g.int64s([0, -1, kvHeads * headDim])]);
  const [output] = g.node('MultiHeadAttention', [query, l.k, l.v, '', '', ctx.repeatedBias(), l.pastKey, l.pastValue], {
    domain: MS_DOMAIN,
    attributes: { num_heads: int(kvHeads) },
    outputs: [g.freshName('attention'), l.presentKey, l.presentValue],
  });
  if (shape.hfOrderOutput) {
    // [b, s·group, kvH·hd] → [b, s, group, kvH, hd] → [b, s, kvH, group, hd] → [b, s, H·hd].
    const split = g.op('Reshape', [output!, g.int64s([0, -1, heads / kvHeads, kvHeads, headDim])]);
    const rows = g.op('Transpose', [split], { attributes: { perm: ints([0, 1, 3, 2, 4]) } });
    return g.op('Reshape', [rows, g.int64s([0, 0, heads * headDim])]);
  }
  // [b, s·group, kvH·hd] → [b, s, H·hd], still in the grouped head order (o_proj's rows are too).
  return g.op('Reshape', [output!, g.int64s([0, -1, heads * headDim])]);
}
