// The Llama family as llama.cpp's `llama` (Llama, SmolLM2) and `qwen2` architectures, from the
// parameters of llamaWeights.ts (Hugging Face names, projections stored [in, out]).
//
// Rotary layout: Hugging Face rotates half-split pairs (dimension i with i + headDim/2, NeoX
// style). llama.cpp's `qwen2` does the same, so its Q and K rows go as they are; its `llama`
// rotates adjacent pairs (2i, 2i+1), so Q and K rows (and biases) are permuted within each head
// as convert_hf_to_gguf.py's LlamaModel.permute does. Llama-3's `llama3` scaling is the
// rope_freqs tensor: per frequency, the factor the base frequency is divided by.
import { EMBED, FINAL_NORM, LM_HEAD, type LlamaDims, llamaLayerParam, rotaryInverseFrequencies } from '../../src/graph/llamaWeights.js';
import { type GgufType, type Meta, type TensorPlan, tensor, transposed, writeGguf } from './ggufFile.js';
import { tokenizerMeta } from './ggufTokenizer.js';

/**
 * Rows of a Q or K projection ([heads × headDim] rows of `rowLength`) from the half-split
 * layout to the interleaved one: within a head, row half × headDim/2 + j goes to 2j + half.
 */
export function interleaveRotaryRows(rows: Float32Array, heads: number, rowLength: number): Float32Array {
  const headDim = rows.length / rowLength / heads;
  if (!Number.isInteger(headDim) || headDim % 2 !== 0) throw new Error(`${rows.length} values are not ${heads} heads of even size`);
  const half = headDim / 2;
  const out = new Float32Array(rows.length);
  for (let h = 0; h < heads; h++) {
    for (let part = 0; part < 2; part++) {
      for (let j = 0; j < half; j++) {
        const from = (h * headDim + part * half + j) * rowLength;
        const to = (h * headDim + 2 * j + part) * rowLength;
        out.set(rows.subarray(from, from + rowLength), to);
      }
    }
  }
  return out;
}

/** llama3 scaling as llama.cpp's rope_freqs: base frequency ÷ scaled frequency, per pair. */
export function ropeFreqFactors(dims: Pick<LlamaDims, 'headDim' | 'ropeTheta' | 'ropeScaling'>): Float32Array {
  const base = rotaryInverseFrequencies({ headDim: dims.headDim, ropeTheta: dims.ropeTheta });
  const scaled = rotaryInverseFrequencies(dims);
  return Float32Array.from(base, (f, i) => f / scaled[i]!);
}

/**
 * Writes `out` from Llama/Qwen2 parameters. Matrices get `type`; the LM head (the tied embedding,
 * or lm_head) gets Q8_0 when `type` is Q4_0, as Parley's q4 keeps its LM head in int8; norms,
 * biases and rope_freqs stay F32.
 */
export async function writeLlamaGguf(
  out: string,
  dims: LlamaDims,
  param: (name: string) => Float32Array,
  type: GgufType,
  tokenizerFolder: string,
): Promise<void> {
  const { arch, layers, heads, kvHeads, headDim, hidden, inner, vocabSize } = dims;
  if (dims.ropeScaling && arch !== 'llama') throw new Error(`llama3 rope scaling is written for the llama arch only, not ${arch}`);
  const interleave = arch === 'llama';
  const headType: GgufType = type === 'Q4_0' ? 'Q8_0' : type;
  const tensors: TensorPlan[] = [];
  const vector = (gguf: string, hf: string, length: number, rotaryHeads = 0): void => {
    const values = (): Float32Array => (rotaryHeads > 0 && interleave ? interleaveRotaryRows(param(hf), rotaryHeads, 1) : param(hf));
    tensors.push(tensor(gguf, [length], 'F32', values));
  };
  // An [in, out] projection as ggml's rows of ne0 = in.
  const linear = (gguf: string, hf: string, inSize: number, outSize: number, rotaryHeads = 0, as: GgufType = type): void => {
    const values = (): Float32Array => {
      const rows = transposed(param(hf), inSize, outSize);
      return rotaryHeads > 0 && interleave ? interleaveRotaryRows(rows, rotaryHeads, inSize) : rows;
    };
    tensors.push(tensor(gguf, [inSize, outSize], as, values));
  };
  // The embedding is [vocab, hidden] in both conventions.
  tensors.push(tensor('token_embd.weight', [hidden, vocabSize], dims.tied ? headType : type, () => param(EMBED)));
  if (dims.ropeScaling) tensors.push(tensor('rope_freqs.weight', [headDim / 2], 'F32', () => ropeFreqFactors(dims)));
  for (let i = 0; i < layers; i++) {
    const hf = (suffix: string): string => llamaLayerParam(i, suffix);
    vector(`blk.${i}.attn_norm.weight`, hf('input_layernorm.weight'), hidden);
    linear(`blk.${i}.attn_q.weight`, hf('self_attn.q_proj.weight'), hidden, heads * headDim, heads);
    linear(`blk.${i}.attn_k.weight`, hf('self_attn.k_proj.weight'), hidden, kvHeads * headDim, kvHeads);
    linear(`blk.${i}.attn_v.weight`, hf('self_attn.v_proj.weight'), hidden, kvHeads * headDim);
    if (dims.qkvBias) {
      vector(`blk.${i}.attn_q.bias`, hf('self_attn.q_proj.bias'), heads * headDim, heads);
      vector(`blk.${i}.attn_k.bias`, hf('self_attn.k_proj.bias'), kvHeads * headDim, kvHeads);
      vector(`blk.${i}.attn_v.bias`, hf('self_attn.v_proj.bias'), kvHeads * headDim);
    }
    linear(`blk.${i}.attn_output.weight`, hf('self_attn.o_proj.weight'), heads * headDim, hidden);
    vector(`blk.${i}.ffn_norm.weight`, hf('post_attention_layernorm.weight'), hidden);
    linear(`blk.${i}.ffn_gate.weight`, hf('mlp.gate_proj.weight'), hidden, inner);
    linear(`blk.${i}.ffn_up.weight`, hf('mlp.up_proj.weight'), hidden, inner);
    linear(`blk.${i}.ffn_down.weight`, hf('mlp.down_proj.weight'), inner, hidden);
  }
  vector('output_norm.weight', FINAL_NORM, hidden);
  if (!dims.tied) linear('output.weight', LM_HEAD, hidden, vocabSize, 0, headType);

  const key = (name: string): string => `${arch}.${name}`;
  const u32 = (value: number): Meta => ({ type: 'u32', value });
  const meta: Record<string, Meta> = {
    'general.architecture': { type: 'str', value: arch },
    'general.name': { type: 'str', value: `parley-${arch}-${type}` },
    [key('vocab_size')]: u32(vocabSize),
    [key('context_length')]: u32(dims.positions),
    [key('embedding_length')]: u32(hidden),
    [key('feed_forward_length')]: u32(inner),
    [key('block_count')]: u32(layers),
    [key('attention.head_count')]: u32(heads),
    [key('attention.head_count_kv')]: u32(kvHeads),
    [key('attention.key_length')]: u32(headDim),
    [key('attention.value_length')]: u32(headDim),
    [key('attention.layer_norm_rms_epsilon')]: { type: 'f32', value: dims.rmsNormEps },
    [key('rope.freq_base')]: { type: 'f32', value: dims.ropeTheta },
    [key('rope.dimension_count')]: u32(headDim),
    ...(await tokenizerMeta(tokenizerFolder, vocabSize)),
  };
  await writeGguf(out, meta, tensors);
}
