// Reads the parts of an ONNX ModelProto a converter needs: nodes (op, inputs, outputs,
// attributes, and the subgraphs an `If` holds), initializers and the graph's inputs and outputs. Tensor bytes are not
// copied: an initializer holds a view into the file's buffer (or, for external data, where
// to read it), so reading a 500 MB export costs the file read and little else.
// Field numbers from onnx/onnx.proto.

import { closeSync, openSync, readSync } from 'node:fs';
import path from 'node:path';

export interface OnnxAttribute {
  name: string;
  f?: number;
  i?: number;
  s?: string;
  t?: OnnxTensor;
  ints?: number[];
  floats?: number[];
  /** A subgraph (an `If`'s then_branch / else_branch). */
  g?: OnnxModel;
}

export interface OnnxNode {
  opType: string;
  domain: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attributes: Map<string, OnnxAttribute>;
}

export interface OnnxTensor {
  name: string;
  dims: number[];
  dataType: number;
  /** Raw little-endian bytes; external data is read when first asked for. */
  bytes(): Uint8Array;
  floatData: number[];
  /** int32_data: where int8/uint8/int32 values go when they are not stored as raw bytes. */
  int32Data: number[];
  int64Data: number[];
}

export interface OnnxModel {
  nodes: OnnxNode[];
  initializers: Map<string, OnnxTensor>;
  inputs: string[];
  outputs: string[];
}

const decoder = new TextDecoder();

class Reader {
  pos: number;
  constructor(
    readonly buf: Uint8Array,
    start = 0,
    readonly end = buf.byteLength,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** A varint as a JS number; int64 negatives (10 bytes, two's complement) come out negative. */
  varint(): number {
    let result = 0n;
    let shift = 0n;
    for (;;) {
      if (this.pos >= this.end) throw new Error('truncated protobuf varint');
      const byte = this.buf[this.pos++]!;
      result |= BigInt(byte & 0x7f) << shift;
      if ((byte & 0x80) === 0) break;
      shift += 7n;
    }
    return Number(BigInt.asIntN(64, result));
  }

  /** Fast path for tags and lengths (always small and non-negative). */
  smallVarint(): number {
    let result = 0;
    let factor = 1;
    for (;;) {
      if (this.pos >= this.end) throw new Error('truncated protobuf varint');
      const byte = this.buf[this.pos++]!;
      result += (byte & 0x7f) * factor;
      if ((byte & 0x80) === 0) return result;
      factor *= 128;
    }
  }

  bytes(): Uint8Array {
    const length = this.smallVarint();
    if (this.pos + length > this.end) throw new Error('truncated protobuf field');
    const out = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }

  string(): string {
    return decoder.decode(this.bytes());
  }

  float(): number {
    const view = new DataView(this.buf.buffer, this.buf.byteOffset + this.pos, 4);
    this.pos += 4;
    return view.getFloat32(0, true);
  }

  skip(wire: number): void {
    if (wire === 0) this.varint();
    else if (wire === 1) this.pos += 8;
    else if (wire === 2) {
      const length = this.smallVarint();
      this.pos += length;
    } else if (wire === 5) this.pos += 4;
    else throw new Error(`unsupported protobuf wire type ${wire}`);
  }

  /** Calls `field` for each (field number, wire type); the callback reads or skips the value. */
  each(field: (no: number, wire: number) => boolean | void): void {
    while (!this.done) {
      const key = this.smallVarint();
      const no = Math.floor(key / 8);
      const wire = key & 7;
      const start = this.pos;
      if (field(no, wire) !== true && this.pos === start) this.skip(wire);
    }
  }

  sub(bytes: Uint8Array): Reader {
    return new Reader(bytes);
  }
}

/** Repeated int64 (packed or not) appended to `into`. */
function readInts(r: Reader, wire: number, into: number[]): void {
  if (wire === 2) {
    const packed = r.sub(r.bytes());
    while (!packed.done) into.push(packed.varint());
  } else {
    into.push(r.varint());
  }
}

function readFloats(r: Reader, wire: number, into: number[]): void {
  if (wire === 2) {
    const packed = r.sub(r.bytes());
    while (!packed.done) into.push(packed.float());
  } else {
    into.push(r.float());
  }
}

function readTensor(bytes: Uint8Array, modelDir: string): OnnxTensor {
  const r = new Reader(bytes);
  const dims: number[] = [];
  const floatData: number[] = [];
  const int32Data: number[] = [];
  const int64Data: number[] = [];
  const external = new Map<string, string>();
  let name = '';
  let dataType = 0;
  let raw: Uint8Array | null = null;
  r.each((no, wire) => {
    if (no === 1) readInts(r, wire, dims);
    else if (no === 2) dataType = r.varint();
    else if (no === 4) readFloats(r, wire, floatData);
    else if (no === 5) readInts(r, wire, int32Data);
    else if (no === 7) readInts(r, wire, int64Data);
    else if (no === 8) name = r.string();
    else if (no === 9) raw = r.bytes();
    else if (no === 13) {
      const entry = r.sub(r.bytes());
      let key = '';
      let value = '';
      entry.each((n) => {
        if (n === 1) key = entry.string();
        else if (n === 2) value = entry.string();
      });
      external.set(key, value);
    }
  });
  const rawBytes: Uint8Array | null = raw;
  let loaded: Uint8Array | null = rawBytes;
  return {
    name,
    dims,
    dataType,
    floatData,
    int32Data,
    int64Data,
    bytes() {
      if (loaded) return loaded;
      const location = external.get('location');
      if (location === undefined) return new Uint8Array(0);
      loaded = readExternal(path.resolve(modelDir, location), Number(external.get('offset') ?? 0), external.get('length'));
      return loaded;
    },
  };
}

function readExternal(file: string, offset: number, length: string | undefined): Uint8Array {
  const fd = openSync(file, 'r');
  try {
    const size = length === undefined ? Number.NaN : Number(length);
    if (!Number.isFinite(size)) throw new Error(`external tensor data in ${file} without a length`);
    const out = new Uint8Array(size);
    for (let done = 0; done < size;) {
      const n = readSync(fd, out, done, size - done, offset + done);
      if (n === 0) throw new Error(`external tensor data in ${file} is truncated`);
      done += n;
    }
    return out;
  } finally {
    closeSync(fd);
  }
}

function readAttribute(bytes: Uint8Array, modelDir: string): OnnxAttribute {
  const r = new Reader(bytes);
  const attribute: OnnxAttribute = { name: '' };
  r.each((no, wire) => {
    if (no === 1) attribute.name = r.string();
    else if (no === 2) attribute.f = r.float();
    else if (no === 3) attribute.i = r.varint();
    else if (no === 4) attribute.s = r.string();
    else if (no === 5) attribute.t = readTensor(r.bytes(), modelDir);
    else if (no === 6) attribute.g = readGraph(r.bytes(), modelDir);
    else if (no === 7) readFloats(r, wire, (attribute.floats ??= []));
    else if (no === 8) readInts(r, wire, (attribute.ints ??= []));
  });
  return attribute;
}

function readNode(bytes: Uint8Array, modelDir: string): OnnxNode {
  const r = new Reader(bytes);
  const node: OnnxNode = { opType: '', domain: '', name: '', inputs: [], outputs: [], attributes: new Map() };
  r.each((no) => {
    if (no === 1) node.inputs.push(r.string());
    else if (no === 2) node.outputs.push(r.string());
    else if (no === 3) node.name = r.string();
    else if (no === 4) node.opType = r.string();
    else if (no === 7) node.domain = r.string();
    else if (no === 5) {
      const attribute = readAttribute(r.bytes(), modelDir);
      node.attributes.set(attribute.name, attribute);
    }
  });
  return node;
}

function valueInfoName(bytes: Uint8Array): string {
  const r = new Reader(bytes);
  let name = '';
  r.each((no) => {
    if (no === 1) name = r.string();
  });
  return name;
}

function readGraph(bytes: Uint8Array, modelDir: string): OnnxModel {
  const graph = new Reader(bytes);
  const result: OnnxModel = { nodes: [], initializers: new Map(), inputs: [], outputs: [] };
  graph.each((no) => {
    if (no === 1) result.nodes.push(readNode(graph.bytes(), modelDir));
    else if (no === 5) {
      const tensor = readTensor(graph.bytes(), modelDir);
      result.initializers.set(tensor.name, tensor);
    } else if (no === 11) result.inputs.push(valueInfoName(graph.bytes()));
    else if (no === 12) result.outputs.push(valueInfoName(graph.bytes()));
  });
  return result;
}

/** Parses an ONNX model held in `buf`; external data is resolved against `modelDir`. */
export function parseOnnx(buf: Uint8Array, modelDir: string): OnnxModel {
  const model = new Reader(buf);
  let graphBytes: Uint8Array | null = null;
  model.each((no) => {
    if (no === 7) graphBytes = model.bytes();
  });
  if (!graphBytes) throw new Error('not an ONNX model: no graph');
  return readGraph(graphBytes, modelDir);
}
