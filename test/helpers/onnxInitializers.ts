// Reads the initializers (weights) of an ONNX file: just enough protobuf to find each
// tensor's name, shape and bytes, so tests can check a hub export against an independent
// forward pass and make variants of a fixture (a tensor changed, or moved to external data).
import { readFileSync } from 'node:fs';

export interface Initializer {
  name: string;
  dims: number[];
  /** ONNX TensorProto.DataType: 1 float, 7 int64, 10 float16. */
  dataType: number;
  /** Where raw_data lies in the file, or -1 when the tensor keeps its values elsewhere. */
  rawOffset: number;
  rawLength: number;
}

/** All initializers of the model's main graph, in file order. */
export function readInitializers(bytes: Uint8Array): Initializer[] {
  const graph = fields(bytes, 0, bytes.length).find((f) => f.number === 7 && f.wire === 2);
  if (!graph) throw new Error('no graph in the ONNX file');
  return fields(bytes, graph.start, graph.end)
    .filter((f) => f.number === 5 && f.wire === 2)
    .map((f) => {
      const tensor: Initializer = { name: '', dims: [], dataType: 0, rawOffset: -1, rawLength: 0 };
      for (const t of fields(bytes, f.start, f.end)) {
        if (t.number === 1 && t.wire === 0) tensor.dims.push(t.value);
        else if (t.number === 1 && t.wire === 2) {
          for (let at = t.start; at < t.end;) {
            const [v, next] = varint(bytes, at);
            tensor.dims.push(v);
            at = next;
          }
        } else if (t.number === 2 && t.wire === 0) tensor.dataType = t.value;
        else if (t.number === 8 && t.wire === 2) tensor.name = Buffer.from(bytes.subarray(t.start, t.end)).toString('utf8');
        else if (t.number === 9 && t.wire === 2) {
          tensor.rawOffset = t.start;
          tensor.rawLength = t.end - t.start;
        }
      }
      return tensor;
    });
}

/** A float32 initializer's values (a copy), by name. */
export function floatInitializer(bytes: Uint8Array, all: readonly Initializer[], name: string): Float32Array {
  const t = all.find((i) => i.name === name);
  if (!t || t.rawOffset < 0 || t.dataType !== 1) throw new Error(`no float32 initializer ${name}`);
  return new Float32Array(bytes.slice(t.rawOffset, t.rawOffset + t.rawLength).buffer);
}

export function readOnnx(file: string): { bytes: Uint8Array; initializers: Initializer[] } {
  const bytes = new Uint8Array(readFileSync(file));
  return { bytes, initializers: readInitializers(bytes) };
}

/**
 * The model with initializer `name`'s values moved to the file `location` beside it, as
 * exports over 2 GB store their weights (onnx/model.onnx + model.onnx_data): returns the
 * new model bytes and the data file's bytes.
 */
export function moveToExternalData(bytes: Uint8Array, name: string, location: string): { model: Uint8Array; data: Uint8Array } {
  const top = fields(bytes, 0, bytes.length);
  const graph = top.find((f) => f.number === 7 && f.wire === 2)!;
  const tensor = fields(bytes, graph.start, graph.end).find(
    (f) =>
      f.number === 5 &&
      f.wire === 2 &&
      fields(bytes, f.start, f.end).some((t) => t.number === 8 && Buffer.from(bytes.subarray(t.start, t.end)).toString() === name),
  );
  if (!tensor) throw new Error(`no initializer ${name}`);
  const parts = fields(bytes, tensor.start, tensor.end);
  const raw = parts.find((t) => t.number === 9)!;
  const data = bytes.slice(raw.start, raw.end);
  const kept = parts.filter((t) => t.number !== 9).map((t) => bytes.subarray(t.headerStart, t.end));
  const entry = (key: string, value: string): Uint8Array =>
    lengthField(13, concat([lengthField(1, Buffer.from(key)), lengthField(2, Buffer.from(value))]));
  const newTensor = concat([
    ...kept,
    entry('location', location),
    entry('offset', '0'),
    entry('length', String(data.length)),
    concat([encodeVarint(14 * 8), encodeVarint(1)]),
  ]);
  const newGraph = concat([
    bytes.subarray(graph.start, tensor.headerStart),
    lengthField(5, newTensor),
    bytes.subarray(tensor.end, graph.end),
  ]);
  return { model: concat([bytes.subarray(0, graph.headerStart), lengthField(7, newGraph), bytes.subarray(graph.end)]), data };
}

function lengthField(number: number, payload: Uint8Array): Uint8Array {
  return concat([encodeVarint(number * 8 + 2), encodeVarint(payload.length), payload]);
}

function encodeVarint(value: number): Uint8Array {
  const out: number[] = [];
  while (value >= 0x80) {
    out.push((value % 0x80) | 0x80);
    value = Math.floor(value / 0x80);
  }
  out.push(value);
  return Uint8Array.from(out);
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(parts));
}

interface Field {
  /** Where the field's key begins. */
  headerStart: number;
  number: number;
  wire: number;
  /** Varint value (wire 0). */
  value: number;
  /** Payload bounds (wire 2). */
  start: number;
  end: number;
}

function fields(bytes: Uint8Array, from: number, to: number): Field[] {
  const out: Field[] = [];
  let at = from;
  while (at < to) {
    const headerStart = at;
    const [key, afterKey] = varint(bytes, at);
    const number = Math.floor(key / 8);
    const wire = key % 8;
    at = afterKey;
    if (wire === 0) {
      const [value, next] = varint(bytes, at);
      out.push({ headerStart, number, wire, value, start: at, end: next });
      at = next;
    } else if (wire === 2) {
      const [length, next] = varint(bytes, at);
      out.push({ headerStart, number, wire, value: 0, start: next, end: next + length });
      at = next + length;
    } else if (wire === 1) {
      out.push({ headerStart, number, wire, value: 0, start: at, end: at + 8 });
      at += 8;
    } else if (wire === 5) {
      out.push({ headerStart, number, wire, value: 0, start: at, end: at + 4 });
      at += 4;
    } else {
      throw new Error(`unsupported protobuf wire type ${wire} at ${at}`);
    }
  }
  return out;
}

function varint(bytes: Uint8Array, at: number): [number, number] {
  let value = 0;
  let scale = 1;
  for (;;) {
    const byte = bytes[at++]!;
    value += (byte & 0x7f) * scale;
    if (byte < 0x80) return [value, at];
    scale *= 128;
  }
}
