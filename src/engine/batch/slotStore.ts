import * as ort from 'onnxruntime-node';
import { regrow } from '../decode/kvGrowth.js';

/**
 * The KV cache of several sequences side by side, for batched decoding: one Float32Array per
 * past input, laid out [slot, heads, capacity, headDim], which is exactly a
 * [slots, heads, capacity, headDim] tensor. A decode step feeds the first `batch` slots as
 * one past with no copy; each slot's own positions are its prefix, the rest padding that its
 * row of the attention mask hides. All slots share one capacity, which follows the longest
 * need in steps of 64 (fit).
 */
export class SlotStore {
  readonly buffers: Record<string, Float32Array> = {};
  capacity = 0;

  constructor(
    readonly names: readonly string[],
    readonly heads: number,
    readonly headDim: number,
    readonly slots: number,
    readonly maxPositions: number,
  ) {
    // Zeroed and full size once; the OS maps pages only as positions are written.
    for (const name of names) this.buffers[name] = new Float32Array(slots * heads * maxPositions * headDim);
  }

  /**
   * Lays the slots out for `needed` positions, keeping the first `keep` positions of every
   * slot (as many as the new capacity holds), as the growth policy (kvGrowth.ts) says: after a
   * long request a batch of short ones must not attend over its padding.
   */
  fit(needed: number, keep: number): void {
    const layout = { blocks: this.slots * this.heads, width: this.headDim, capacity: this.capacity, maxPositions: this.maxPositions };
    this.capacity = regrow(Object.values(this.buffers), layout, needed, keep);
  }

  /** `batch` slots from `first` as one past tensor, [batch, heads, capacity, headDim], no copy. */
  batchPast(name: string, first: number, batch: number): ort.Tensor {
    const size = this.heads * this.capacity * this.headDim;
    return new ort.Tensor('float32', this.buffers[name]!.subarray(first * size, (first + batch) * size), [
      batch,
      this.heads,
      this.capacity,
      this.headDim,
    ]);
  }

  /**
   * Writes `count` new rows of batch row `row` of a new_key_values output (laid out
   * [batch, seq, heads × headDim]) into `slot`, at positions from `at`.
   */
  write(name: string, slot: number, rows: Float32Array, row: number, seq: number, at: number, count: number): void {
    const data = this.buffers[name]!;
    const { heads, headDim: d, capacity } = this;
    for (let j = 0; j < count; j++) {
      for (let h = 0; h < heads; h++) {
        const from = ((row * seq + j) * heads + h) * d;
        data.set(rows.subarray(from, from + d), ((slot * heads + h) * capacity + at + j) * d);
      }
    }
  }
}
