import * as ort from 'onnxruntime-node';

/**
 * The KV cache after `length` tokens: one tensor per past input name, laid out
 * [batch, heads, length, headDim] as GPT-2 exports (ours and the hub's) declare it.
 */
export interface KvCache {
  length: number;
  tensors: Record<string, ort.Tensor>;
}

/** The first `length` positions of `cache`: a copy sliced along the sequence axis. */
export function truncateKvCache(cache: KvCache, length: number): KvCache {
  if (length > cache.length || length < 0) throw new Error(`cannot cut a KV cache of ${cache.length} to ${length}`);
  const tensors: Record<string, ort.Tensor> = {};
  for (const [name, tensor] of Object.entries(cache.tensors)) {
    const [batch, heads, , headDim] = tensor.dims as [number, number, number, number];
    const data = tensor.data;
    if (!(data instanceof Float32Array || data instanceof Uint16Array)) {
      throw new Error(`unsupported KV cache type ${tensor.type}`);
    }
    tensors[name] = new ort.Tensor(tensor.type, sliceRows(data, batch * heads, cache.length, length, headDim), [
      batch,
      heads,
      length,
      headDim,
    ]);
  }
  return { length, tensors };
}

/** Keeps the first `keep` of `rows` rows (each `width` wide) in each of `blocks` blocks. */
function sliceRows<T extends Float32Array | Uint16Array>(data: T, blocks: number, rows: number, keep: number, width: number): T {
  const out = (data instanceof Float32Array ? new Float32Array(blocks * keep * width) : new Uint16Array(blocks * keep * width)) as T;
  for (let b = 0; b < blocks; b++) {
    out.set(data.subarray(b * rows * width, (b * rows + keep) * width), b * keep * width);
  }
  return out;
}
