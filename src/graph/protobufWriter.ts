// A minimal protobuf encoder, hand-written instead of using protobufjs/onnx-proto because
// an ONNX file of GPT-2 small carries ~500 MB of weights: protobufjs needs the whole
// message (weights included) in memory and encodes it into one buffer. Here every length
// is known before any byte is produced (a tensor's byte length follows from its shape), so
// the message is written front to back and tensor bytes are generated only when reached.

/** Bytes produced only while writing; byteLength must be known up front. */
export interface LazyBytes {
  readonly byteLength: number;
  chunks(): Iterable<Uint8Array>;
}

type Field =
  | { kind: 'varint'; no: number; value: bigint }
  | { kind: 'float'; no: number; value: number }
  | { kind: 'bytes'; no: number; data: Uint8Array }
  | { kind: 'lazy'; no: number; data: LazyBytes }
  | { kind: 'message'; no: number; message: ProtoMessage };

const WIRE_VARINT = 0;
const WIRE_LENGTH_DELIMITED = 2;
const WIRE_FIXED32 = 5;
const MAX_MESSAGE_BYTES = 2 ** 31 - 1;

/** Protobuf encodes negative int64 values as their 64-bit two's complement. */
function toUint64(value: number | bigint): bigint {
  return BigInt.asUintN(64, BigInt(value));
}

function varintLength(value: bigint): number {
  let length = 1;
  for (let rest = value >> 7n; rest > 0n; rest >>= 7n) length++;
  return length;
}

function encodeVarint(value: bigint): Uint8Array {
  const out = new Uint8Array(varintLength(value));
  let rest = value;
  for (let i = 0; i < out.length; i++) {
    const low = Number(rest & 0x7fn);
    rest >>= 7n;
    out[i] = rest > 0n ? low | 0x80 : low;
  }
  return out;
}

function tag(no: number, wire: number): bigint {
  return BigInt(no) * 8n + BigInt(wire);
}

const utf8 = new TextEncoder();

export class ProtoMessage {
  private readonly fields: Field[] = [];
  private cachedLength: number | undefined;

  /** int32, int64, enum and bool fields. */
  varint(no: number, value: number | bigint): this {
    return this.add({ kind: 'varint', no, value: toUint64(value) });
  }

  float(no: number, value: number): this {
    return this.add({ kind: 'float', no, value });
  }

  string(no: number, value: string): this {
    return this.add({ kind: 'bytes', no, data: utf8.encode(value) });
  }

  bytes(no: number, data: Uint8Array): this {
    return this.add({ kind: 'bytes', no, data });
  }

  lazyBytes(no: number, data: LazyBytes): this {
    return this.add({ kind: 'lazy', no, data });
  }

  message(no: number, message: ProtoMessage): this {
    return this.add({ kind: 'message', no, message });
  }

  /** Encoded size of this message's fields (without its own tag and length). */
  get byteLength(): number {
    if (this.cachedLength === undefined) {
      let total = 0;
      for (const field of this.fields) total += fieldLength(field);
      if (total > MAX_MESSAGE_BYTES) {
        throw new Error(`protobuf message of ${total} bytes exceeds the 2 GB protobuf limit`);
      }
      this.cachedLength = total;
    }
    return this.cachedLength;
  }

  /** The encoded message as a sequence of chunks, lazy bytes generated as they are reached. */
  *encode(): Generator<Uint8Array> {
    for (const field of this.fields) yield* encodeField(field);
  }

  /** The messages held in field `no`, in order: for rewriting a built message before it is written. */
  messages(no: number): ProtoMessage[] {
    return this.fields.flatMap((f) => (f.kind === 'message' && f.no === no ? [f.message] : []));
  }

  /** Removes the bytes held in field `no` (plain or lazy) and returns them; undefined when there are none. */
  takeBytes(no: number): Uint8Array | LazyBytes | undefined {
    const index = this.fields.findIndex((f) => f.no === no && (f.kind === 'bytes' || f.kind === 'lazy'));
    if (index < 0) return undefined;
    const [field] = this.fields.splice(index, 1);
    this.cachedLength = undefined;
    return field!.kind === 'bytes' || field!.kind === 'lazy' ? field!.data : undefined;
  }

  private add(field: Field): this {
    this.fields.push(field);
    this.cachedLength = undefined;
    return this;
  }
}

function payloadLength(field: Field): number {
  switch (field.kind) {
    case 'varint':
      return varintLength(field.value);
    case 'float':
      return 4;
    case 'bytes':
      return field.data.byteLength;
    case 'lazy':
      return field.data.byteLength;
    case 'message':
      return field.message.byteLength;
  }
}

function wireType(field: Field): number {
  if (field.kind === 'varint') return WIRE_VARINT;
  if (field.kind === 'float') return WIRE_FIXED32;
  return WIRE_LENGTH_DELIMITED;
}

function fieldLength(field: Field): number {
  const payload = payloadLength(field);
  const header = varintLength(tag(field.no, wireType(field)));
  if (wireType(field) !== WIRE_LENGTH_DELIMITED) return header + payload;
  return header + varintLength(BigInt(payload)) + payload;
}

function* encodeField(field: Field): Generator<Uint8Array> {
  yield encodeVarint(tag(field.no, wireType(field)));
  switch (field.kind) {
    case 'varint':
      yield encodeVarint(field.value);
      return;
    case 'float': {
      const out = new Uint8Array(4);
      new DataView(out.buffer).setFloat32(0, field.value, true);
      yield out;
      return;
    }
    case 'bytes':
      yield encodeVarint(BigInt(field.data.byteLength));
      yield field.data;
      return;
    case 'lazy': {
      yield encodeVarint(BigInt(field.data.byteLength));
      let written = 0;
      for (const chunk of field.data.chunks()) {
        written += chunk.byteLength;
        yield chunk;
      }
      if (written !== field.data.byteLength) {
        throw new Error(`lazy field ${field.no} produced ${written} bytes, announced ${field.data.byteLength}`);
      }
      return;
    }
    case 'message':
      yield encodeVarint(BigInt(field.message.byteLength));
      yield* field.message.encode();
      return;
  }
}
