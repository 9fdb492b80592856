// The Llama-family forward pass (Llama, SmolLM2, Qwen2) as an ONNX graph with the inputs and
// outputs of gpt2Graph.ts: input_ids, attention_mask, position_ids, past_key_values.{i}.* at
// [batch_size, kvHeads, past_sequence_length, headDim], num_logits_to_keep; logits, present.*
// and new_key_values.{i}.* ([batch, seq, kvHeads × headDim], keys after rotary), so Parley's
// decoder keeps the cache itself and the batcher can run it.
//
// Per block: SkipSimplifiedLayerNormalization folds each residual add into the next RMSNorm;
// q, k and v are one projection (with Qwen2's biases in the same node) split three ways;
// com.microsoft RotaryEmbedding rotates q and k from position_ids with cos/sin tables built
// here (NeoX layout, llama3 scaling applied to the frequencies); gate and up are one
// projection split in two for SwiGLU. Attention is one of llamaAttention.ts's variants.

import { DataType, GraphBuilder, float, int } from './onnxGraph.js';
import { buildAttentionBias } from './gpt2Graph.js';
import { EMBED, FINAL_NORM, LM_HEAD, type LlamaDims, llamaLayerParam, rotaryInverseFrequencies } from './llamaWeights.js';
import { type AttentionKind, attentionContext, buildAttention, groupsQueryHeads } from './llamaAttention.js';
import { groupQ4Columns, groupQ4Rows, groupQueryColumns, groupQueryRows, headsAreWholeQ4Blocks, reordersHeads } from './groupedQuery.js';
import type { ProtoMessage } from './protobufWriter.js';
import { MS_DOMAIN, type ParamSource, type Precision, type Q4Source, makeProjector, tiedEmbedding } from './projection.js';

const OPSET = 17;

/** Names of the fused matrices the builder asks its source for, made from Hugging Face's. */
export const QKV_WEIGHT = 'self_attn.qkv_proj.weight';
export const QKV_BIAS = 'self_attn.qkv_proj.bias';
export const GATE_UP_WEIGHT = 'mlp.gate_up_proj.weight';
const O_PROJ_WEIGHT = 'self_attn.o_proj.weight';

export interface LlamaGraphOptions {
  /** The attention variant; 'groupedMha' by default (the fastest measured, see docs/performance.md). */
  attention?: AttentionKind;
  /** Whether to add the new_key_values.* outputs; true by default. */
  newKeyValues?: boolean;
  /** For q4: blocks to write as they are (by the names the builder asks for, fused ones included). */
  keptQ4?: Q4Source;
}

/** Columns of row-major [rows, cols_i] matrices side by side: [rows, Σ cols_i]. */
export function concatColumns(parts: readonly Float32Array[], rows: number): Float32Array {
  const widths = parts.map((p) => p.length / rows);
  const total = widths.reduce((a, b) => a + b, 0);
  const out = new Float32Array(rows * total);
  for (let r = 0; r < rows; r++) {
    let offset = r * total;
    parts.forEach((p, i) => {
      out.set(p.subarray(r * widths[i]!, (r + 1) * widths[i]!), offset);
      offset += widths[i]!;
    });
  }
  return out;
}

/** `param` extended with the fused q/k/v and gate/up matrices (Hugging Face names inside). */
export function withFusedParams(dims: LlamaDims, param: ParamSource): ParamSource {
  return (name) => {
    const match = /^model\.layers\.(\d+)\.(.+)$/.exec(name);
    if (!match) return param(name);
    const layer = Number(match[1]);
    const at = (suffix: string): Float32Array => param(llamaLayerParam(layer, suffix));
    switch (match[2]) {
      case QKV_WEIGHT:
        return concatColumns([at('self_attn.q_proj.weight'), at('self_attn.k_proj.weight'), at('self_attn.v_proj.weight')], dims.hidden);
      case QKV_BIAS:
        return concatColumns([at('self_attn.q_proj.bias'), at('self_attn.k_proj.bias'), at('self_attn.v_proj.bias')], 1);
      case GATE_UP_WEIGHT:
        return concatColumns([at('mlp.gate_proj.weight'), at('mlp.up_proj.weight')], dims.hidden);
      default:
        return param(name);
    }
  };
}

const layerPart = (name: string): string | undefined => /^model\.layers\.\d+\.(.+)$/.exec(name)?.[1];

/** `param` (fused q/k/v inside) with q's columns, and o_proj's rows if `rows`, in groupedQuery.ts's order. */
export function withGroupedQuery(dims: LlamaDims, param: ParamSource, rows: boolean): ParamSource {
  return (name) => {
    switch (layerPart(name)) {
      case QKV_WEIGHT:
        return groupQueryColumns(param(name), dims.hidden, dims);
      case QKV_BIAS:
        return groupQueryColumns(param(name), 1, dims);
      case O_PROJ_WEIGHT:
        return rows ? groupQueryRows(param(name), dims) : param(name);
      default:
        return param(name);
    }
  };
}

/** Kept 4-bit blocks in the same order (o_proj's only if `rows`; null, quantized from the values, if its heads are not whole blocks). */
export function groupedKeptQ4(dims: LlamaDims, kept: Q4Source, rows: boolean): Q4Source {
  return (name) => {
    const matrix = kept(name);
    if (!matrix) return null;
    switch (layerPart(name)) {
      case QKV_WEIGHT:
        return groupQ4Columns(matrix, dims);
      case O_PROJ_WEIGHT:
        return rows ? groupQ4Rows(matrix, dims) : matrix;
      default:
        return matrix;
    }
  };
}

/** cos and sin of position × frequency, [positions, headDim / 2] each, RotaryEmbedding's caches. */
export function rotaryTables(dims: LlamaDims): { cos: Float32Array; sin: Float32Array } {
  const freqs = rotaryInverseFrequencies(dims);
  const half = freqs.length;
  const cos = new Float32Array(dims.positions * half);
  const sin = new Float32Array(dims.positions * half);
  for (let p = 0; p < dims.positions; p++) {
    for (let i = 0; i < half; i++) {
      // Hugging Face computes the angle in float32; so does this, for the same rounding.
      const angle = Math.fround(p * Math.fround(freqs[i]!));
      cos[p * half + i] = Math.cos(angle);
      sin[p * half + i] = Math.sin(angle);
    }
  }
  return { cos, sin };
}

export function buildLlamaModel(dims: LlamaDims, source: ParamSource, precision: Precision, options: LlamaGraphOptions = {}): ProtoMessage {
  const withRows = options.newKeyValues ?? true;
  const kind = options.attention ?? 'groupedMha';
  const grouped = groupsQueryHeads(kind) && reordersHeads(dims);
  // Kept 4-bit o_proj blocks follow the grouped order only when a head is whole blocks; else o_proj keeps
  // Hugging Face's rows (and its blocks) and the attention puts its output back in that order.
  const groupedRows = grouped && !(precision === 'q4' && options.keptQ4 && !headsAreWholeQ4Blocks(dims));
  const fused = withFusedParams(dims, source);
  const param = grouped ? withGroupedQuery(dims, fused, groupedRows) : fused;
  const kept = grouped && options.keptQ4 ? groupedKeptQ4(dims, options.keptQ4, groupedRows) : options.keptQ4;
  const g = new GraphBuilder();
  const { layers, heads, kvHeads, headDim, hidden, inner, vocabSize } = dims;
  const { floatParam, project } = makeProjector(g, param, precision, kept);
  const qWidth = heads * headDim;
  const kvWidth = kvHeads * headDim;

  const inputIds = g.input('input_ids', DataType.INT64, ['batch_size', 'sequence_length']);
  const attentionMask = g.input('attention_mask', DataType.INT64, ['batch_size', 'total_sequence_length']);
  const positionIds = g.input('position_ids', DataType.INT64, ['batch_size', 'sequence_length']);
  const cacheDims = (length: string) => ['batch_size', kvHeads, length, headDim];
  const past = Array.from({ length: layers }, (_, i) => ({
    key: g.input(`past_key_values.${i}.key`, DataType.FLOAT, cacheDims('past_sequence_length')),
    value: g.input(`past_key_values.${i}.value`, DataType.FLOAT, cacheDims('past_sequence_length')),
  }));
  const numLogitsToKeep = g.input('num_logits_to_keep', DataType.INT64, []);
  g.output('logits', DataType.FLOAT, ['batch_size', 'num_logits', vocabSize]);
  for (let i = 0; i < layers; i++) {
    g.output(`present.${i}.key`, DataType.FLOAT, cacheDims('total_sequence_length'));
    g.output(`present.${i}.value`, DataType.FLOAT, cacheDims('total_sequence_length'));
  }
  for (let i = 0; withRows && i < layers; i++) {
    g.output(`new_key_values.${i}.key`, DataType.FLOAT, ['batch_size', 'sequence_length', kvWidth]);
    g.output(`new_key_values.${i}.value`, DataType.FLOAT, ['batch_size', 'sequence_length', kvWidth]);
  }

  const seqLen = g.op('Shape', [inputIds], { attributes: { start: int(1) } });
  const pastLen = g.op('Shape', [past[0]!.key], { attributes: { start: int(2), end: int(3) } });
  const ctx = attentionContext(g, { heads, kvHeads, headDim }, buildAttentionBias(g, attentionMask, pastLen, seqLen), pastLen, seqLen);
  const tables = rotaryTables(dims);
  const half = headDim / 2;
  const cosCache = g.initializer('rotary_cos', DataType.FLOAT, [dims.positions, half], floatBytesOf(tables.cos));
  const sinCache = g.initializer('rotary_sin', DataType.FLOAT, [dims.positions, half], floatBytesOf(tables.sin));
  const rotate = (x: string, n: number, output?: string): string =>
    g.op('RotaryEmbedding', [x, positionIds, cosCache, sinCache], {
      domain: MS_DOMAIN,
      attributes: { interleaved: int(0), num_heads: int(n) },
      ...(output ? { outputs: [output] } : {}),
    });

  // The embedding and the LM head.
  let tokens: string;
  let lmHead: (x: string) => string;
  if (dims.tied) {
    ({ tokens, lmHead } = tiedEmbedding(g, floatParam, param, precision, EMBED, { hidden, vocabSize }, inputIds));
  } else {
    tokens = g.op('Gather', [floatParam(EMBED, [vocabSize, hidden]), inputIds]);
    // An untied head in q4 stays int8, as the tied one does.
    const head = precision === 'q4' ? makeProjector(g, param, 'q8') : { project };
    lmHead = (x) => g.op('Identity', [head.project(x, LM_HEAD, hidden, vocabSize)], { outputs: ['logits'] });
  }

  const epsilon = { attributes: { epsilon: float(dims.rmsNormEps), axis: int(-1) } };
  const addAndNorm = (input: string, skip: string, weight: string) => {
    const normed = g.freshName('normed');
    const sum = g.freshName('residual');
    g.node('SkipSimplifiedLayerNormalization', [input, skip, floatParam(weight, [hidden])], {
      domain: MS_DOMAIN,
      attributes: { epsilon: float(dims.rmsNormEps) },
      outputs: [normed, '', '', sum],
    });
    return { normed, sum };
  };

  let residual = tokens;
  let normed = g.op('SimplifiedLayerNormalization', [tokens, floatParam(llamaLayerParam(0, 'input_layernorm.weight'), [hidden])], epsilon);
  for (let i = 0; i < layers; i++) {
    const name = (suffix: string): string => llamaLayerParam(i, suffix);
    const qkv = project(normed, name(QKV_WEIGHT), hidden, qWidth + 2 * kvWidth, dims.qkvBias ? name(QKV_BIAS) : undefined);
    const valueRow = withRows ? `new_key_values.${i}.value` : g.freshName('v');
    const [q, k, v] = g.node('Split', [qkv, g.int64s([qWidth, kvWidth, kvWidth])], {
      attributes: { axis: int(2) },
      outputs: [g.freshName('q'), g.freshName('k'), valueRow],
    });
    const attention = buildAttention(g, kind, { heads, kvHeads, headDim, hfOrderOutput: grouped && !groupedRows }, ctx, {
      q: rotate(q!, heads),
      k: rotate(k!, kvHeads, withRows ? `new_key_values.${i}.key` : undefined),
      v: v!,
      pastKey: past[i]!.key,
      pastValue: past[i]!.value,
      presentKey: `present.${i}.key`,
      presentValue: `present.${i}.value`,
    });
    ({ normed, sum: residual } = addAndNorm(
      project(attention, name(O_PROJ_WEIGHT), qWidth, hidden),
      residual,
      name('post_attention_layernorm.weight'),
    ));

    const gateUp = project(normed, name(GATE_UP_WEIGHT), hidden, 2 * inner);
    const [gate, up] = g.node('Split', [gateUp, g.int64s([inner, inner])], { attributes: { axis: int(2) }, outputCount: 2 });
    const activated = g.op('Mul', [g.op('Mul', [gate!, g.op('Sigmoid', [gate!])]), up!]);
    const nextNorm = i + 1 < layers ? llamaLayerParam(i + 1, 'input_layernorm.weight') : FINAL_NORM;
    ({ normed, sum: residual } = addAndNorm(project(activated, name('mlp.down_proj.weight'), inner, hidden), residual, nextNorm));
  }

  // Only the last num_logits_to_keep positions (0 keeps all) go through the LM head.
  const keepFrom = g.op('Neg', [g.op('Reshape', [numLogitsToKeep, g.int64s([1])])]);
  lmHead(g.op('Slice', [normed, keepFrom, seqLen, g.int64s([1])]));
  return g.toModel(dims.arch, OPSET);
}

function floatBytesOf(values: Float32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}
