// The GPT-2 forward pass as an ONNX graph, with the inputs and outputs transformers.js
// expects of a decoder with a KV cache: past_key_values.{i}.key/value are
// [batch_size, heads, past_sequence_length, headDim] with heads and headDim fixed numbers,
// because transformers.js builds the first step's empty past from the declared shape (a
// dimension named batch_size becomes the batch, any other named one 0); present.{i}.* come
// out in the same layout.
//
// Choices made for decode speed, where a step streams every weight once and, for a small
// q8 model, the fixed cost of each node run is a visible share of the step:
// - projections are MatMul / DynamicQuantizeMatMul over 2-D initializers that ORT
//   pre-packs once at load; the tied LM head reads the embedding as Gemm transB=1 (fp32)
//   or from one int8 copy in [embd, vocab] layout (q8), never through a per-step Transpose;
// - biases, residual adds, LayerNorms, GELU and attention go into onnxruntime's fused CPU
//   ops (SkipLayerNormalization, FastGelu, MultiHeadAttention): 9 nodes per block;
// - num_logits_to_keep slices the hidden state before the LM head;
// - besides present.* (the whole cache, as every export has it), new_key_values.* hand out
//   only this step's key/value rows, [batch, seq, heads × headDim]. onnxruntime-node copies
//   every fetched output into fresh JS memory, so a decoder that fetches only these rows and
//   keeps the cache itself (decoderSession.ts) avoids copying the whole cache every step.
//
// Optionally the KV cache crosses the graph boundary as float16 (maths stays fp32, via Cast
// nodes), as some hub exports ship it. On CPU the Casts cost more than the smaller copies
// save, so float32 stays the default; the option keeps the decoder's float16 path tested.

import { DataType, GraphBuilder, float, int } from './onnxGraph.js';
import { type Gpt2Dims, GPT2_LAYER_NORM_EPSILON, LN_F, WPE, WTE, innerSize, layerParamName } from './gpt2Weights.js';
import type { ProtoMessage } from './protobufWriter.js';
import { MS_DOMAIN, type ParamSource, type Precision, makeProjector, tiedEmbedding } from './projection.js';

/** The element type of past_key_values.* and present.* at the graph boundary. */
export type KvCacheType = 'float32' | 'float16';

export type { ParamSource, Precision } from './projection.js';

const OPSET = 17;
const FLOAT32_LOWEST = -3.4028234663852886e38;

/** Builds the ModelProto; parameter values are pulled from `param` only while it is written. */
export interface GraphOptions {
  /** The KV cache's type at the graph boundary; float32 by default. */
  kvCache?: KvCacheType;
  /** Whether to add the new_key_values.* outputs; true by default. Without them the graph has
   * exactly the inputs and outputs of a hub export, which keeps the decoder's fallback tested. */
  newKeyValues?: boolean;
}

export function buildGpt2Model(dims: Gpt2Dims, param: ParamSource, precision: Precision, options: GraphOptions = {}): ProtoMessage {
  const kvCacheType = options.kvCache ?? 'float32';
  const withRows = options.newKeyValues ?? true;
  const g = new GraphBuilder();
  const { layers, heads, embd, vocabSize } = dims;
  const headDim = embd / heads;

  const { floatParam, project } = makeProjector(g, param, precision);

  /**
   * LayerNorm(input + skip + bias) with prefix's weight and bias; returns the normalised
   * value and the sum, which is the residual stream.
   */
  const addAndNorm = (input: string, skip: string, prefix: string, bias?: string) => {
    const inputs = [input, skip, floatParam(`${prefix}.weight`, [embd]), floatParam(`${prefix}.bias`, [embd])];
    if (bias !== undefined) inputs.push(floatParam(bias, [embd]));
    const normed = g.freshName('normed');
    const sum = g.freshName('residual');
    g.node('SkipLayerNormalization', inputs, {
      domain: MS_DOMAIN,
      attributes: { epsilon: float(dims.layerNormEpsilon ?? GPT2_LAYER_NORM_EPSILON) },
      outputs: [normed, '', '', sum],
    });
    return { normed, sum };
  };

  const inputIds = g.input('input_ids', DataType.INT64, ['batch_size', 'sequence_length']);
  const attentionMask = g.input('attention_mask', DataType.INT64, ['batch_size', 'total_sequence_length']);
  const positionIds = g.input('position_ids', DataType.INT64, ['batch_size', 'sequence_length']);
  const cacheDims = (length: string) => ['batch_size', heads, length, headDim];
  const kvType = kvCacheType === 'float16' ? DataType.FLOAT16 : DataType.FLOAT;
  const past = Array.from({ length: layers }, (_, i) => ({
    key: g.input(`past_key_values.${i}.key`, kvType, cacheDims('past_sequence_length')),
    value: g.input(`past_key_values.${i}.value`, kvType, cacheDims('past_sequence_length')),
  }));
  const numLogitsToKeep = g.input('num_logits_to_keep', DataType.INT64, []);

  g.output('logits', DataType.FLOAT, ['batch_size', 'num_logits', vocabSize]);
  for (let i = 0; i < layers; i++) {
    g.output(`present.${i}.key`, kvType, cacheDims('total_sequence_length'));
    g.output(`present.${i}.value`, kvType, cacheDims('total_sequence_length'));
  }
  for (let i = 0; withRows && i < layers; i++) {
    g.output(`new_key_values.${i}.key`, kvType, ['batch_size', 'sequence_length', embd]);
    g.output(`new_key_values.${i}.value`, kvType, ['batch_size', 'sequence_length', embd]);
  }

  const seqLen = g.op('Shape', [inputIds], { attributes: { start: int(1) } });
  const pastLen = g.op('Shape', [past[0].key], { attributes: { start: int(2), end: int(3) } });
  const attentionBias = buildAttentionBias(g, attentionMask, pastLen, seqLen);

  // Token embeddings [batch, seq, embd].
  const { tokens, lmHead } = tiedEmbedding(g, floatParam, param, precision, WTE, { hidden: embd, vocabSize }, inputIds);
  const positions = g.op('Gather', [floatParam(WPE, [dims.positions, embd]), positionIds]);

  let { normed, sum: residual } = addAndNorm(tokens, positions, layerParamName(0, 'ln_1'));
  for (let i = 0; i < layers; i++) {
    const name = (suffix: string): string => layerParamName(i, suffix);

    // The bias is added with the projection rather than inside MultiHeadAttention, so that
    // k and v are finished cache rows: the new_key_values outputs, straight from the Split.
    const qkv = project(normed, name('attn.c_attn.weight'), embd, 3 * embd, name('attn.c_attn.bias'));
    const fp16 = kvType === DataType.FLOAT16;
    const rowKey = `new_key_values.${i}.key`;
    const rowValue = `new_key_values.${i}.value`;
    const [q, k, v] = g.node('Split', [qkv, g.int64s([embd, embd, embd])], {
      attributes: { axis: int(2) },
      outputs: [g.freshName('q'), fp16 || !withRows ? g.freshName('k') : rowKey, fp16 || !withRows ? g.freshName('v') : rowValue],
    });
    const toHalf = { attributes: { to: int(DataType.FLOAT16) } };
    if (fp16 && withRows) {
      g.node('Cast', [k], { ...toHalf, outputs: [rowKey] });
      g.node('Cast', [v], { ...toHalf, outputs: [rowValue] });
    }
    // MultiHeadAttention splits heads, appends k/v to the cache and applies the additive
    // mask: one kernel instead of a dozen small ops per layer.
    const attention = g.freshName('attention');
    const presentKey = `present.${i}.key`;
    const presentValue = `present.${i}.value`;
    const toFloat = (x: string): string => g.op('Cast', [x], { attributes: { to: int(DataType.FLOAT) } });
    const attentionOutputs = fp16 ? [g.freshName('present_key'), g.freshName('present_value')] : [presentKey, presentValue];
    g.node(
      'MultiHeadAttention',
      [q, k, v, '', '', attentionBias, fp16 ? toFloat(past[i].key) : past[i].key, fp16 ? toFloat(past[i].value) : past[i].value],
      {
        domain: MS_DOMAIN,
        attributes: { num_heads: int(heads) },
        outputs: [attention, ...attentionOutputs],
      },
    );
    if (fp16) {
      g.node('Cast', [attentionOutputs[0]!], { ...toHalf, outputs: [presentKey] });
      g.node('Cast', [attentionOutputs[1]!], { ...toHalf, outputs: [presentValue] });
    }
    ({ normed, sum: residual } = addAndNorm(
      project(attention, name('attn.c_proj.weight'), embd, embd),
      residual,
      name('ln_2'),
      name('attn.c_proj.bias'),
    ));

    const inner = innerSize(dims);
    const expanded = project(normed, name('mlp.c_fc.weight'), embd, inner);
    const activated = g.op('FastGelu', [expanded, floatParam(name('mlp.c_fc.bias'), [inner])], { domain: MS_DOMAIN });
    const nextNorm = i + 1 < layers ? layerParamName(i + 1, 'ln_1') : LN_F;
    ({ normed, sum: residual } = addAndNorm(
      project(activated, name('mlp.c_proj.weight'), inner, embd),
      residual,
      nextNorm,
      name('mlp.c_proj.bias'),
    ));
  }

  // Only the last num_logits_to_keep positions (0 keeps all) go through the LM head.
  const keepFrom = g.op('Neg', [g.op('Reshape', [numLogitsToKeep, g.int64s([1])])]);
  lmHead(g.op('Slice', [normed, keepFrom, seqLen, g.int64s([1])]));

  return g.toModel('gpt2', OPSET);
}

/**
 * Additive attention bias [batch, 1, seq, total]: 0 where query i (absolute position
 * past + i) may see key j (j <= past + i and attention_mask[j] = 1), the lowest float
 * elsewhere (as Hugging Face does: a fully masked padding row stays finite).
 */
export function buildAttentionBias(g: GraphBuilder, attentionMask: string, pastLen: string, seqLen: string): string {
  const totalLen = g.op('Add', [pastLen, seqLen]);
  const zero = g.int64s([0], []);
  const one = g.int64s([1], []);
  const pastScalar = g.op('Squeeze', [pastLen]);
  const totalScalar = g.op('Squeeze', [totalLen]);
  const queryPositions = g.op('Unsqueeze', [g.op('Range', [pastScalar, totalScalar, one]), g.int64s([1])]);
  const keyPositions = g.op('Range', [zero, totalScalar, one]);
  const causal = g.op('LessOrEqual', [keyPositions, queryPositions]);
  const notPadding = g.op('Unsqueeze', [g.op('Cast', [attentionMask], { attributes: { to: int(DataType.BOOL) } }), g.int64s([1, 2])]);
  const allowed = g.op('And', [causal, notPadding]);
  return g.op('Where', [allowed, g.scalar(0), g.scalar(FLOAT32_LOWEST)]);
}
