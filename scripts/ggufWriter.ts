// A GGUF v3 writer for GPT-2 (llama.cpp's `gpt2` architecture), for `npm run bench:peers`:
// the generated model's weights in F32, Q8_0 or Q4_0, with GPT-2's tokenizer, so llama.cpp
// runs exactly the weights Parley runs. Tensor data is produced while the file is written.
//
// Layout (ggml): a matrix's ne0 is its input size, ne1 its output size; rows of ne0 values,
// i.e. PyTorch's Linear layout [out, in]. GPT-2's Conv1D weights are [in, out]: transposed.
// Q8_0: blocks of 32 along ne0, fp16 scale + 32 int8 (scale = max|x| / 127).
// Q4_0: blocks of 32, fp16 scale + 16 bytes; element i in the low nibble of byte i, element
// i + 16 in the high one; value = (q − 8) × scale, scale = (the value of largest |x|) / −8.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { floatToHalf } from '../src/engine/decode/float16.js';
import { type Gpt2Dims, LN_F, WPE, WTE, innerSize, layerParamName } from '../src/graph/gpt2Weights.js';
import { quantizeBlock4 } from '../src/graph/quantize.js';
import { writeChunks } from '../src/graph/writeChunks.js';

export type GgufType = 'F32' | 'Q8_0' | 'Q4_0';
const GGML_TYPE = { F32: 0, Q4_0: 2, Q8_0: 8 } as const;
const BLOCK = 32;
const ALIGNMENT = 32;

const enum ValueType {
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
}

type Meta =
  | { type: 'u32'; value: number }
  | { type: 'f32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'str'; value: string }
  | { type: 'strs'; value: readonly string[] }
  | { type: 'i32s'; value: readonly number[] };

class Bytes {
  private readonly parts: Uint8Array[] = [];
  length = 0;
  private push(b: Uint8Array): void {
    this.parts.push(b);
    this.length += b.byteLength;
  }
  u32(v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v, true);
    this.push(b);
    return this;
  }
  u64(v: number): this {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, BigInt(v), true);
    this.push(b);
    return this;
  }
  f32(v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setFloat32(0, v, true);
    this.push(b);
    return this;
  }
  str(s: string): this {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.byteLength);
    this.push(b);
    return this;
  }
  raw(b: Uint8Array): this {
    this.push(b);
    return this;
  }
  concat(): Uint8Array {
    return Buffer.concat(this.parts);
  }
}

function writeMeta(out: Bytes, key: string, meta: Meta): void {
  out.str(key);
  switch (meta.type) {
    case 'u32':
      out.u32(ValueType.UINT32).u32(meta.value);
      return;
    case 'f32':
      out.u32(ValueType.FLOAT32).f32(meta.value);
      return;
    case 'bool':
      out.u32(ValueType.BOOL).raw(Uint8Array.of(meta.value ? 1 : 0));
      return;
    case 'str':
      out.u32(ValueType.STRING).str(meta.value);
      return;
    case 'strs':
      out.u32(ValueType.ARRAY).u32(ValueType.STRING).u64(meta.value.length);
      for (const s of meta.value) out.str(s);
      return;
    case 'i32s': {
      out.u32(ValueType.ARRAY).u32(ValueType.INT32).u64(meta.value.length);
      const b = new Uint8Array(meta.value.length * 4);
      const view = new DataView(b.buffer);
      meta.value.forEach((v, i) => view.setInt32(i * 4, v, true));
      out.raw(b);
      return;
    }
  }
}

/** Rows of `rowLength` values quantized to Q8_0 (34 bytes per 32 values). */
export function quantizeQ8_0(rows: Float32Array, rowLength: number): Uint8Array {
  if (rowLength % BLOCK !== 0) throw new Error(`Q8_0 needs rows of a multiple of ${BLOCK}`);
  const blocks = rows.length / BLOCK;
  const out = new Uint8Array(blocks * 34);
  const view = new DataView(out.buffer);
  for (let b = 0; b < blocks; b++) {
    let amax = 0;
    for (let i = 0; i < BLOCK; i++) amax = Math.max(amax, Math.abs(rows[b * BLOCK + i]!));
    const d = amax / 127;
    const id = d === 0 ? 0 : 1 / d;
    view.setUint16(b * 34, floatToHalf(d), true);
    for (let i = 0; i < BLOCK; i++) view.setInt8(b * 34 + 2 + i, Math.round(rows[b * BLOCK + i]! * id));
  }
  return out;
}

/** Rows quantized to Q4_0 (18 bytes per 32 values). */
export function quantizeQ4_0(rows: Float32Array, rowLength: number): Uint8Array {
  if (rowLength % BLOCK !== 0) throw new Error(`Q4_0 needs rows of a multiple of ${BLOCK}`);
  const blocks = rows.length / BLOCK;
  const out = new Uint8Array(blocks * 18);
  const view = new DataView(out.buffer);
  for (let b = 0; b < blocks; b++) {
    const block = rows.subarray(b * BLOCK, (b + 1) * BLOCK);
    const d = quantizeBlock4(block, out, b * 18 + 2, 'split');
    view.setUint16(b * 18, floatToHalf(d), true);
  }
  return out;
}

interface TensorPlan {
  name: string;
  /** ggml dims: ne0 first. */
  ne: number[];
  type: GgufType;
  bytes: number;
  data: () => Uint8Array;
}

function bytesFor(type: GgufType, count: number): number {
  return type === 'F32' ? count * 4 : type === 'Q8_0' ? (count / BLOCK) * 34 : (count / BLOCK) * 18;
}

function transposed(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c]!;
  return out;
}

function encode(type: GgufType, values: Float32Array, rowLength: number): Uint8Array {
  if (type === 'F32') return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  return type === 'Q8_0' ? quantizeQ8_0(values, rowLength) : quantizeQ4_0(values, rowLength);
}

/** The tokenizer's vocabulary in id order and its merges, from a GPT-2 tokenizer.json. */
async function tokenizerMeta(folder: string): Promise<Record<string, Meta>> {
  const json = JSON.parse(await readFile(path.join(folder, 'tokenizer.json'), 'utf8')) as {
    model: { vocab: Record<string, number>; merges: (string | [string, string])[] };
    added_tokens?: { id: number; content: string; special?: boolean }[];
  };
  const tokens: string[] = [];
  for (const [token, id] of Object.entries(json.model.vocab)) tokens[id] = token;
  const types = tokens.map(() => 1);
  for (const added of json.added_tokens ?? []) {
    tokens[added.id] = added.content;
    types[added.id] = added.special ? 3 : 1;
  }
  const eos = (json.added_tokens ?? []).find((t) => t.content === '<|endoftext|>')?.id ?? tokens.length - 1;
  const merges = json.model.merges.map((m) => (Array.isArray(m) ? m.join(' ') : m));
  return {
    'tokenizer.ggml.model': { type: 'str', value: 'gpt2' },
    'tokenizer.ggml.pre': { type: 'str', value: 'gpt-2' },
    'tokenizer.ggml.tokens': { type: 'strs', value: tokens },
    'tokenizer.ggml.token_type': { type: 'i32s', value: types },
    'tokenizer.ggml.merges': { type: 'strs', value: merges },
    'tokenizer.ggml.bos_token_id': { type: 'u32', value: eos },
    'tokenizer.ggml.eos_token_id': { type: 'u32', value: eos },
    'tokenizer.ggml.add_bos_token': { type: 'bool', value: false },
  };
}

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
    tensors.push({ name: gguf, ne: [length], type: 'F32', bytes: length * 4, data: () => encode('F32', param(hf), length) });
  };
  const table = (gguf: string, hf: string, rows: number, tableType: GgufType): void => {
    // Embedding tables are [rows, embd] in both conventions.
    tensors.push({
      name: gguf,
      ne: [embd, rows],
      type: tableType,
      bytes: bytesFor(tableType, rows * embd),
      data: () => encode(tableType, param(hf), embd),
    });
  };
  const conv1d = (gguf: string, hf: string, inSize: number, outSize: number): void => {
    tensors.push({
      name: gguf,
      ne: [inSize, outSize],
      type,
      bytes: bytesFor(type, inSize * outSize),
      data: () => encode(type, transposed(param(hf), inSize, outSize), inSize),
    });
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
    'general.alignment': { type: 'u32', value: ALIGNMENT },
    'gpt2.context_length': { type: 'u32', value: positions },
    'gpt2.embedding_length': { type: 'u32', value: embd },
    'gpt2.feed_forward_length': { type: 'u32', value: inner },
    'gpt2.block_count': { type: 'u32', value: layers },
    'gpt2.attention.head_count': { type: 'u32', value: heads },
    'gpt2.attention.layer_norm_epsilon': { type: 'f32', value: dims.layerNormEpsilon ?? 1e-5 },
    ...(await tokenizerMeta(tokenizerFolder)),
  };

  const header = new Bytes();
  header.raw(Buffer.from('GGUF', 'latin1')).u32(3).u64(tensors.length).u64(Object.keys(meta).length);
  for (const [key, value] of Object.entries(meta)) writeMeta(header, key, value);
  let offset = 0;
  const align = (n: number): number => Math.ceil(n / ALIGNMENT) * ALIGNMENT;
  for (const t of tensors) {
    header.str(t.name).u32(t.ne.length);
    for (const n of t.ne) header.u64(n);
    header.u32(GGML_TYPE[t.type]).u64(offset);
    offset = align(offset + t.bytes);
  }
  const headerBytes = header.concat();
  function* chunks(): Generator<Uint8Array> {
    yield headerBytes;
    yield new Uint8Array(align(headerBytes.byteLength) - headerBytes.byteLength);
    for (const t of tensors) {
      const data = t.data();
      if (data.byteLength !== t.bytes) throw new Error(`${t.name}: ${data.byteLength} bytes, planned ${t.bytes}`);
      yield data;
      yield new Uint8Array(align(t.bytes) - t.bytes);
    }
  }
  await writeChunks(out, chunks());
}
