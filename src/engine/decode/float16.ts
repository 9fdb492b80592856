// float16 tensor data as onnxruntime hands it back (logits, KV rows); the conversions
// themselves are in graph/halfFloat.ts.

/**
 * Tensor data as float32 values or float16 bits. onnxruntime hands float16 back as a
 * Uint16Array of bits, or as a Float16Array where the runtime has one (Node 24): the same
 * bytes either way, viewed here as bits. Null for any other type.
 */
export function floatData(data: unknown): Float32Array | Uint16Array | null {
  if (data instanceof Float32Array || data instanceof Uint16Array) return data;
  if (ArrayBuffer.isView(data) && data.constructor.name === 'Float16Array') {
    const view = data as unknown as { buffer: ArrayBufferLike; byteOffset: number; length: number };
    return new Uint16Array(view.buffer, view.byteOffset, view.length);
  }
  return null;
}
