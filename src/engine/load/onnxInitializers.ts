// The heads (name and dims) of an ONNX graph's initializers, read from the file without
// loading it: the protobuf is walked field by field with small positioned reads, and tensor
// data is skipped.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { GRAPH_INITIALIZER, MODEL_GRAPH, TENSOR_DIMS, TENSOR_NAME } from '../../graph/onnxFields.js';

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;
/** Names and dims lists longer than this are not what we look for. */
const SMALL_FIELD = 4096;

interface Field {
  field: number;
  wire: number;
  /** The varint's value, or a LEN field's length. */
  value: number;
  /** Where a LEN field's bytes start. */
  start: number;
  /** Where the next field starts. */
  next: number;
}

/** Nodes sit side by side: one window read serves many of their tags. */
const WINDOW = 64 * 1024;

class FileFields {
  private window = Buffer.alloc(0);
  private windowStart = 0;

  constructor(private readonly fd: number) {}

  read(pos: number, length: number): Buffer {
    if (pos < this.windowStart || pos + length > this.windowStart + this.window.length) {
      const buf = Buffer.alloc(Math.max(WINDOW, length));
      const n = readSync(this.fd, buf, 0, buf.length, pos);
      this.window = buf.subarray(0, n);
      this.windowStart = pos;
    }
    const from = pos - this.windowStart;
    return this.window.subarray(from, Math.min(from + length, this.window.length));
  }

  varint(pos: number): { value: number; next: number } | null {
    const bytes = this.read(pos, 10);
    let value = 0;
    let scale = 1;
    for (let i = 0; i < bytes.length; i++) {
      const b = bytes[i]!;
      value += (b & 0x7f) * scale;
      scale *= 128;
      if ((b & 0x80) === 0) return Number.isSafeInteger(value) ? { value, next: pos + i + 1 } : null;
    }
    return null;
  }

  /** The fields between `start` and `end`; stops at anything malformed. */
  *fields(start: number, end: number): Generator<Field> {
    let pos = start;
    while (pos < end) {
      const tag = this.varint(pos);
      if (tag === null) return;
      const field = Math.floor(tag.value / 8);
      const wire = tag.value % 8;
      if (wire === WIRE_VARINT) {
        const v = this.varint(tag.next);
        if (v === null) return;
        yield { field, wire, value: v.value, start: tag.next, next: v.next };
        pos = v.next;
      } else if (wire === WIRE_LEN) {
        const len = this.varint(tag.next);
        if (len === null || len.next + len.value > end) return;
        yield { field, wire, value: len.value, start: len.next, next: len.next + len.value };
        pos = len.next + len.value;
      } else if (wire === WIRE_FIXED64 || wire === WIRE_FIXED32) {
        pos = tag.next + (wire === WIRE_FIXED64 ? 8 : 4);
      } else {
        return;
      }
    }
  }
}

/**
 * Calls `visit` with each initializer's name and dims, in file order, until it returns true.
 * A file that cannot be walked ends the walk quietly where it breaks.
 */
export function visitInitializers(onnxFile: string, visit: (name: string, dims: readonly number[]) => boolean | void): void {
  const fd = openSync(onnxFile, 'r');
  try {
    const file = new FileFields(fd);
    const size = fstatSync(fd).size;
    for (const top of file.fields(0, size)) {
      if (top.field !== MODEL_GRAPH || top.wire !== WIRE_LEN) continue;
      for (const g of file.fields(top.start, top.next)) {
        if (g.field !== GRAPH_INITIALIZER || g.wire !== WIRE_LEN) continue;
        const tensor = readTensorHead(file, g.start, g.next);
        if (visit(tensor.name, tensor.dims) === true) return;
      }
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * How many values the graph's initializers hold: its parameter count. Scalars and the small
 * tensors of quantisation (scales, zero points) count too; 4-bit weights packed two to a byte
 * count as their bytes.
 */
export function initializerValueCount(onnxFile: string): number {
  let total = 0;
  visitInitializers(onnxFile, (_name, dims) => {
    total += dims.reduce((product, d) => product * d, 1);
  });
  return total;
}

function readTensorHead(file: FileFields, start: number, end: number): { name: string; dims: number[] } {
  const dims: number[] = [];
  let name = '';
  for (const f of file.fields(start, end)) {
    if (f.field === TENSOR_DIMS && f.wire === WIRE_VARINT) dims.push(f.value);
    else if (f.field === TENSOR_DIMS && f.wire === WIRE_LEN && f.value <= SMALL_FIELD) {
      for (let pos = f.start; pos < f.next;) {
        const v = file.varint(pos);
        if (v === null) break;
        dims.push(v.value);
        pos = v.next;
      }
    } else if (f.field === TENSOR_NAME && f.wire === WIRE_LEN && f.value <= SMALL_FIELD) {
      name = file.read(f.start, f.value).toString('utf8');
    }
  }
  return { name, dims };
}
