import * as ort from 'onnxruntime-node';
import { PREFILL_CHUNK, type DecoderGraph } from './decoderSession.js';
import { SlotStore } from './slotStore.js';

/**
 * Decode steps of several sequences as one batch, on the rows path of a graph Parley
 * generated (the same onnxruntime session the single-sequence DecoderSession drives). A
 * step reads every weight once whatever the batch, so four sequences cost little more than
 * one. Each sequence keeps its own rows (a slot of the SlotStore), positions and mask row.
 */
export class BatchDecoder {
  readonly store: SlotStore;
  private readonly pastNames: readonly string[];
  private readonly rowNames: readonly string[];

  constructor(
    private readonly session: ort.InferenceSession,
    private readonly graph: DecoderGraph,
    slots: number,
    maxPositions: number,
  ) {
    if (!BatchDecoder.canBatch(graph)) throw new Error('this graph cannot decode in batches');
    this.pastNames = graph.pastInputs.flatMap((p) => [p.key, p.value]);
    this.rowNames = graph.rowOutputs!.flatMap((r) => [r.key, r.value]);
    this.store = new SlotStore(this.pastNames, graph.heads, graph.headDim, slots, maxPositions);
  }

  /** Batching needs the rows path (a hub export's present path re-sends whole caches) in fp32. */
  static canBatch(graph: DecoderGraph): boolean {
    return graph.rowOutputs !== null && graph.pastType === 'float32' && graph.hasPositionIds;
  }

  /**
   * Runs `ids` into `slot` after its first `start` positions, in chunks; `stop` is asked
   * between chunks. Returns the last position's logits, or null when stopped (the slot then
   * holds a consistent prefix, whose length is returned too).
   */
  async prefill(slot: number, ids: readonly number[], start: number, stop: () => boolean): Promise<{ logits: Float32Array | null; length: number }> {
    let length = start;
    let logits: Float32Array | null = null;
    for (let from = 0; from < ids.length; from += PREFILL_CHUNK) {
      if (from > 0 && stop()) return { logits: null, length };
      const chunk = ids.slice(from, from + PREFILL_CHUNK);
      const n = chunk.length;
      this.store.ensure(length + n);
      const padded = length === 0 ? 0 : this.store.capacity;
      const mask = new BigInt64Array(padded + n);
      mask.fill(1n, 0, length);
      mask.fill(1n, padded);
      const feeds = this.baseFeeds(
        BigInt64Array.from(chunk, (x) => BigInt(x)),
        BigInt64Array.from(chunk, (_, i) => BigInt(length + i)),
        [1, n],
        mask,
        [1, padded + n],
        length > 0,
      );
      for (const name of this.pastNames) feeds[name] = padded === 0 ? this.emptyPast() : this.store.slotPast(name, slot);
      const out = await this.session.run(feeds, ['logits', ...this.rowNames]);
      this.pastNames.forEach((name, i) => this.store.write(name, slot, floats(out[this.rowNames[i]!]), 0, n, length, n));
      logits = logitsRow(out['logits']!, 0);
      length += n;
    }
    return { logits, length };
  }

  /**
   * One decode step: each entry feeds `token` at position `length` of its slot. The batch
   * spans slots 0 to the highest in use; slots in between that are not stepping get a row
   * that sees only itself and whose rows are not kept. Returns each entry's logits.
   */
  async step(entries: readonly { slot: number; token: number; length: number }[]): Promise<Float32Array[]> {
    const batch = Math.max(...entries.map((e) => e.slot)) + 1;
    this.store.ensure(Math.max(...entries.map((e) => e.length)) + 1);
    const capacity = this.store.capacity;
    const ids = new BigInt64Array(batch);
    const positions = new BigInt64Array(batch);
    const width = capacity + 1;
    const mask = new BigInt64Array(batch * width);
    for (let b = 0; b < batch; b++) mask[b * width + capacity] = 1n;
    for (const e of entries) {
      ids[e.slot] = BigInt(e.token);
      positions[e.slot] = BigInt(e.length);
      mask.fill(1n, e.slot * width, e.slot * width + e.length);
    }
    const feeds = this.baseFeeds(ids, positions, [batch, 1], mask, [batch, width], true);
    for (const name of this.pastNames) feeds[name] = this.store.batchPast(name, batch);
    const out = await this.session.run(feeds, ['logits', ...this.rowNames]);
    this.pastNames.forEach((name, i) => {
      const rows = floats(out[this.rowNames[i]!]);
      for (const e of entries) this.store.write(name, e.slot, rows, e.slot, 1, e.length, 1);
    });
    return entries.map((e) => logitsRow(out['logits']!, e.slot));
  }

  private baseFeeds(ids: BigInt64Array, positions: BigInt64Array, dims: number[], mask: BigInt64Array, maskDims: number[], hasPast: boolean): Record<string, ort.Tensor> {
    const g = this.graph;
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', ids, dims),
      position_ids: new ort.Tensor('int64', positions, dims),
      attention_mask: new ort.Tensor('int64', mask, maskDims),
    };
    if (g.hasLogitsToKeep) feeds['num_logits_to_keep'] = new ort.Tensor('int64', BigInt64Array.of(1n), []);
    if (g.hasUseCacheBranch) feeds['use_cache_branch'] = new ort.Tensor('bool', Uint8Array.of(hasPast ? 1 : 0), [1]);
    return feeds;
  }

  private emptyPast(): ort.Tensor {
    return new ort.Tensor('float32', new Float32Array(0), [1, this.graph.heads, 0, this.graph.headDim]);
  }
}

function floats(tensor: ort.Tensor | undefined): Float32Array {
  const data = tensor?.data;
  if (!(data instanceof Float32Array)) throw new Error('expected float32 rows');
  return data;
}

/** The last position's logits of batch row `row` (a copy the caller may modify). */
function logitsRow(logits: ort.Tensor, row: number): Float32Array {
  const data = logits.data;
  if (!(data instanceof Float32Array)) throw new Error(`unsupported logits type ${logits.type}`);
  const [, positions, vocab] = logits.dims as [number, number, number];
  const start = (row * positions + positions - 1) * vocab;
  return data.slice(start, start + vocab);
}
