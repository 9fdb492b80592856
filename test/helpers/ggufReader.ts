// Reads back what scripts/gguf writes (GGUF v3): metadata, the tensor table, tensor bytes. For
// tests; covers the value types the writer uses.
import { ALIGNMENT, GGML_TYPE, type GgufType } from '../../scripts/gguf/ggufFile.js';

export type GgufValue = number | boolean | string | string[] | number[];

export interface GgufTensorInfo {
  name: string;
  ne: number[];
  type: GgufType;
  /** Byte offset of the data in the file. */
  start: number;
}

export interface GgufContents {
  version: number;
  meta: Map<string, GgufValue>;
  tensors: Map<string, GgufTensorInfo>;
}

export function readGguf(bytes: Uint8Array): GgufContents {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 0;
  const u32 = (): number => ((at += 4), view.getUint32(at - 4, true));
  const u64 = (): number => ((at += 8), Number(view.getBigUint64(at - 8, true)));
  const str = (): string => {
    const length = u64();
    at += length;
    return Buffer.from(bytes.buffer, bytes.byteOffset + at - length, length).toString('utf8');
  };
  const value = (type: number): GgufValue => {
    switch (type) {
      case 4:
        return u32();
      case 5:
        return ((at += 4), view.getInt32(at - 4, true));
      case 6:
        return ((at += 4), view.getFloat32(at - 4, true));
      case 7:
        return ((at += 1), view.getUint8(at - 1) !== 0);
      case 8:
        return str();
      case 9: {
        const itemType = u32();
        const count = u64();
        const items = Array.from({ length: count }, () => value(itemType));
        return items as string[] | number[];
      }
      default:
        throw new Error(`GGUF value type ${type} at byte ${at}`);
    }
  };
  if (Buffer.from(bytes.subarray(0, 4)).toString('latin1') !== 'GGUF') throw new Error('not a GGUF file');
  at = 4;
  const version = u32();
  const tensorCount = u64();
  const metaCount = u64();
  const meta = new Map<string, GgufValue>();
  for (let i = 0; i < metaCount; i++) {
    const key = str();
    meta.set(key, value(u32()));
  }
  const typeNames = new Map(Object.entries(GGML_TYPE).map(([name, id]) => [id as number, name as GgufType]));
  const infos: { name: string; ne: number[]; type: GgufType; offset: number }[] = [];
  for (let i = 0; i < tensorCount; i++) {
    const name = str();
    const ne = Array.from({ length: u32() }, () => u64());
    const typeId = u32();
    const type = typeNames.get(typeId);
    if (!type) throw new Error(`${name}: ggml type ${typeId}`);
    infos.push({ name, ne, type, offset: u64() });
  }
  const dataStart = Math.ceil(at / ALIGNMENT) * ALIGNMENT;
  const tensors = new Map(infos.map((t) => [t.name, { name: t.name, ne: t.ne, type: t.type, start: dataStart + t.offset }]));
  return { version, meta, tensors };
}

/** An F32 tensor's values. */
export function f32Tensor(bytes: Uint8Array, info: GgufTensorInfo): Float32Array {
  if (info.type !== 'F32') throw new Error(`${info.name} is ${info.type}`);
  const count = info.ne.reduce((a, b) => a * b, 1);
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset + info.start, bytes.byteOffset + info.start + count * 4));
}
