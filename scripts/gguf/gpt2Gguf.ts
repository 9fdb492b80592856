// GPT-2 as llama.cpp's `gpt2` architecture: the generated model's weights with GPT-2's
// tokenizer, so llama.cpp runs exactly the weights Parley runs. GPT-2's Conv1D weights are
// [in, out]: transposed into ggml's rows of ne0 = in.
import { type Gpt2Dims, LN_F, WPE, WTE, innerSize, layerParamName } from '../../src/graph/gpt2Weights.js';
import { type GgufType, type Meta, type TensorPlan, tensor, transposed, writeGguf } from './ggufFile.js';
import { tokenizerMeta } from './ggufTokenizer.js';

/**
 * Writes `out` from GPT-2 parameters (Hugging Face names and layouts, see gpt2Weights.ts).
 * Matrices get `type`; the tied embedding (also the LM head) gets Q8_0 when `type` is Q4_0,
 * as Parley's q4 keeps its LM head in int8; norms, biases and positions stay F32.
 */
export async function writeGpt2Gguf(
  out: string,
  dims: Gpt2Dims,
  param: (name: string) => Float32Array,
  type: GgufType,
  tokenizerFolder: string,
): Promise<void> {
  const { layers, heads, embd, positions, vocabSize } = dims;
  const inner = innerSize(dims);
  const tensors: TensorPlan[] = [];
  const vector = (gguf: string, hf: string, length: number): void => {
    tensors.push(tensor(gguf, [length], 'F32', () => param(hf)));
  };
  // Embedding tables are [rows, embd] in both conventions.
  const table = (gguf: string, hf: string, rows: number, tableType: GgufType): void => {
    tensors.push(tensor(gguf, [embd, rows], tableType, () => param(hf)));
  };
  const conv1d = (gguf: string, hf: string, inSize: number, outSize: number): void => {
    tensors.push(tensor(gguf, [inSize, outSize], type, () => transposed(param(hf), inSize, outSize)));
  };
  table('token_embd.weight', WTE, vocabSize, type === 'Q4_0' ? 'Q8_0' : type);
  table('position_embd.weight', WPE, positions, 'F32');
  for (let i = 0; i < layers; i++) {
    const hf = (suffix: string): string => layerParamName(i, suffix);
    vector(`blk.${i}.attn_norm.weight`, hf('ln_1.weight'), embd);
    vector(`blk.${i}.attn_norm.bias`, hf('ln_1.bias'), embd);
    conv1d(`blk.${i}.attn_qkv.weight`, hf('attn.c_attn.weight'), embd, 3 * embd);
    vector(`blk.${i}.attn_qkv.bias`, hf('attn.c_attn.bias'), 3 * embd);
    conv1d(`blk.${i}.attn_output.weight`, hf('attn.c_proj.weight'), embd, embd);
    vector(`blk.${i}.attn_output.bias`, hf('attn.c_proj.bias'), embd);
    vector(`blk.${i}.ffn_norm.weight`, hf('ln_2.weight'), embd);
    vector(`blk.${i}.ffn_norm.bias`, hf('ln_2.bias'), embd);
    conv1d(`blk.${i}.ffn_up.weight`, hf('mlp.c_fc.weight'), embd, inner);
    vector(`blk.${i}.ffn_up.bias`, hf('mlp.c_fc.bias'), inner);
    conv1d(`blk.${i}.ffn_down.weight`, hf('mlp.c_proj.weight'), inner, embd);
    vector(`blk.${i}.ffn_down.bias`, hf('mlp.c_proj.bias'), embd);
  }
  vector('output_norm.weight', `${LN_F}.weight`, embd);
  vector('output_norm.bias', `${LN_F}.bias`, embd);

  const meta: Record<string, Meta> = {
    'general.architecture': { type: 'str', value: 'gpt2' },
    'general.name': { type: 'str', value: `parley-gpt2-${type}` },
    'gpt2.context_length': { type: 'u32', value: positions },
    'gpt2.embedding_length': { type: 'u32', value: embd },
    'gpt2.feed_forward_length': { type: 'u32', value: inner },
    'gpt2.block_count': { type: 'u32', value: layers },
    'gpt2.attention.head_count': { type: 'u32', value: heads },
    'gpt2.attention.layer_norm_epsilon': { type: 'f32', value: dims.layerNormEpsilon ?? 1e-5 },
    ...(await tokenizerMeta(tokenizerFolder)),
  };
  await writeGguf(out, meta, tensors);
}
