import * as ort from 'onnxruntime-node';
import { regrow } from './kvGrowth.js';
import { floatData } from './float16.js';

type KvData = Float32Array | Uint16Array;

/**
 * The KV cache after `length` tokens, in one of two forms:
 * - `present`: the graph's own present.* tensors, [batch, heads, length, headDim], as every
 *   GPT-2 export returns them. onnxruntime-node copies each into fresh JS memory per step.
 * - `rows`: Parley's own buffers, filled from the graph's new_key_values.* outputs (only the
 *   new rows cross into JS) and fed back without a copy. See RowStore.
 */
export type KvCache = PresentKvCache | RowKvCache;

export interface PresentKvCache {
  kind: 'present';
  length: number;
  tensors: Record<string, ort.Tensor>;
}

export interface RowKvCache {
  kind: 'rows';
  length: number;
  /**
   * Shared along one chain of caches. Only the newest is ever used again (the prefix cache
   * hands it over), so growing it or cutting it back may relayout the store in place.
   */
  store: RowStore;
}

/**
 * One buffer per past input in [heads, capacity, headDim] layout, which is exactly a
 * [1, heads, capacity, headDim] tensor: positions at and past a cache's length are padding
 * that the attention mask hides. Capacity follows the cache's length in steps (fitCapacity),
 * so appending a token touches one row per head, and cutting the cache back is free.
 */
export interface RowStore {
  type: 'float32' | 'float16';
  heads: number;
  headDim: number;
  /** Positions each head has room for in the current layout. */
  capacity: number;
  /** The most positions the model has (n_positions); buffers are sized for it once. */
  maxPositions: number;
  buffers: Record<string, KvData>;
}

export function newRowStore(
  names: readonly string[],
  type: RowStore['type'],
  heads: number,
  headDim: number,
  maxPositions: number,
): RowStore {
  // Allocated zeroed at full size; the OS maps pages only as positions are written.
  const size = heads * maxPositions * headDim;
  const buffers: Record<string, KvData> = {};
  for (const name of names) buffers[name] = type === 'float16' ? new Uint16Array(size) : new Float32Array(size);
  return { type, heads, headDim, capacity: 0, maxPositions, buffers };
}

/**
 * Lays the buffers out for `needed` positions, keeping the first `length` of every head, as
 * the growth policy (kvGrowth.ts) says.
 */
export function fitCapacity(store: RowStore, needed: number, length: number): void {
  if (length > needed) throw new Error(`cannot keep ${length} positions in room for ${needed}`);
  const layout = { blocks: store.heads, width: store.headDim, capacity: store.capacity, maxPositions: store.maxPositions };
  store.capacity = regrow(Object.values(store.buffers), layout, needed, length);
}

/** The past tensor to feed: the whole current layout, [1, heads, capacity, headDim], no copy. */
export function pastTensor(store: RowStore, name: string): ort.Tensor {
  const data = store.buffers[name]!;
  const size = store.heads * store.capacity * store.headDim;
  const view = data instanceof Float32Array ? new Float32Array(data.buffer, 0, size) : new Uint16Array(data.buffer, 0, size);
  return new ort.Tensor(store.type, view, [1, store.heads, store.capacity, store.headDim]);
}

/** Writes `count` new rows, laid out [count, heads, headDim], at positions from `at`. */
export function writeRows(store: RowStore, name: string, rows: KvData, at: number, count: number): void {
  const data = store.buffers[name]!;
  const { heads, headDim: d, capacity } = store;
  for (let j = 0; j < count; j++) {
    for (let h = 0; h < heads; h++) {
      const from = (j * heads + h) * d;
      data.set(rows.subarray(from, from + d), (h * capacity + at + j) * d);
    }
  }
}

/** The first `length` positions of `cache`. */
export function truncateKvCache(cache: KvCache, length: number): KvCache {
  if (length > cache.length || length < 0) throw new Error(`cannot cut a KV cache of ${cache.length} to ${length}`);
  if (cache.kind === 'rows') return { ...cache, length };
  const tensors: Record<string, ort.Tensor> = {};
  for (const [name, tensor] of Object.entries(cache.tensors)) {
    const [batch, heads, , headDim] = tensor.dims as [number, number, number, number];
    const data = floatData(tensor.data);
    if (!data) {
      throw new Error(`unsupported KV cache type ${tensor.type}`);
    }
    tensors[name] = new ort.Tensor(tensor.type, sliceRows(data, batch * heads, cache.length, length, headDim), [
      batch,
      heads,
      length,
      headDim,
    ]);
  }
  return { kind: 'present', length, tensors };
}

/** Keeps the first `keep` of `rows` rows (each `width` wide) in each of `blocks` blocks. */
function sliceRows<T extends KvData>(data: T, blocks: number, rows: number, keep: number, width: number): T {
  const out = (data instanceof Float32Array ? new Float32Array(blocks * keep * width) : new Uint16Array(blocks * keep * width)) as T;
  for (let b = 0; b < blocks; b++) {
    out.set(data.subarray(b * rows * width, (b * rows + keep) * width), b * keep * width);
  }
  return out;
}
