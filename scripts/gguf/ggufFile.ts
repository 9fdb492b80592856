// The GGUF v3 container for `npm run bench:peers`: metadata, the tensor table and tensor data
// produced while the file is written, in F32, Q8_0 or Q4_0. Architecture-specific writers
// (gpt2Gguf.ts, llamaGguf.ts) plan the tensors; this module lays them out.
//
// Layout (ggml): a matrix's ne0 is its input size, ne1 its output size; rows of ne0 values,
// i.e. PyTorch's Linear layout [out, in].
// Q8_0: blocks of 32 along ne0, fp16 scale + 32 int8 (scale = max|x| / 127).
// Q4_0: blocks of 32, fp16 scale + 16 bytes; element i in the low nibble of byte i, element
// i + 16 in the high one; value = (q − 8) × scale, scale = (the value of largest |x|) / −8.

import { floatToHalf } from '../../src/graph/halfFloat.js';
import { quantizeBlock4 } from '../../src/graph/quantize.js';
import { writeChunks } from '../../src/graph/writeChunks.js';

export type GgufType = 'F32' | 'Q8_0' | 'Q4_0';
/** Bumped whenever the files written change, so cached GGUFs get written again. */
export const GGUF_WRITER_VERSION = 2;
export const GGML_TYPE = { F32: 0, Q4_0: 2, Q8_0: 8 } as const;
const BLOCK = 32;
export const ALIGNMENT = 32;

export const enum ValueType {
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
}

export type Meta =
  | { type: 'u32'; value: number }
  | { type: 'f32'; value: number }
  | { type: 'bool'; value: boolean }
  | { type: 'str'; value: string }
  | { type: 'strs'; value: readonly string[] }
  | { type: 'i32s'; value: readonly number[] };

export interface TensorPlan {
  name: string;
  /** ggml dims: ne0 first. */
  ne: number[];
  type: GgufType;
  bytes: number;
  /** The tensor's bytes, made when the writer reaches it (one tensor in memory at a time). */
  data: () => Uint8Array;
}

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

export function bytesFor(type: GgufType, count: number): number {
  return type === 'F32' ? count * 4 : type === 'Q8_0' ? (count / BLOCK) * 34 : (count / BLOCK) * 18;
}

/** A row-major [rows, cols] matrix as [cols, rows]. */
export function transposed(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c]!;
  return out;
}

export function encode(type: GgufType, values: Float32Array, rowLength: number): Uint8Array {
  if (type === 'F32') return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
  return type === 'Q8_0' ? quantizeQ8_0(values, rowLength) : quantizeQ4_0(values, rowLength);
}

/** A tensor of ggml shape `ne` whose F32 values (rows of ne0) `values` makes. */
export function tensor(name: string, ne: number[], type: GgufType, values: () => Float32Array): TensorPlan {
  const count = ne.reduce((a, b) => a * b, 1);
  return { name, ne, type, bytes: bytesFor(type, count), data: () => encode(type, values(), ne[0]!) };
}

/** Writes a GGUF v3 file: the header, then each tensor's data, aligned. */
export async function writeGguf(out: string, meta: Record<string, Meta>, tensors: readonly TensorPlan[]): Promise<void> {
  const all: Record<string, Meta> = { 'general.alignment': { type: 'u32', value: ALIGNMENT }, ...meta };
  const header = new Bytes();
  header.raw(Buffer.from('GGUF', 'latin1')).u32(3).u64(tensors.length).u64(Object.keys(all).length);
  for (const [key, value] of Object.entries(all)) writeMeta(header, key, value);
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
