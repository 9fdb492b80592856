import '../float16Feeds.js';
import * as ort from 'onnxruntime-node';
import type { DecoderGraph } from '../decode/decoderSession.js';
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
   * One pass over several sequences at once: each entry feeds `tokens` (one for a decode
   * step, up to a prompt chunk for a prefill) at positions from `length` of its slot. Rows of
   * different lengths are padded on the right and the padding masked. The batch spans the
   * lowest to the highest slot in the pass (the store feeds that range without a copy), so a
   * lone sequence runs as a batch of one whichever slot it holds; slots in between that take
   * no part get a row that sees only its own first position and whose rows are not kept.
   * Returns each entry's logits at its last token.
   *
   * The store's capacity is fitted to this pass and to `others`, the slots outside it:
   * `live`, the longest cache of a sequence that is still generating (kept whole), and
   * `parked`, the longest idle cache worth keeping (kept as far as the capacity reaches; the
   * caller cuts its record of parked caches to `store.capacity`).
   */
  async step(
    entries: readonly { slot: number; tokens: readonly number[]; length: number }[],
    others: { live: number; parked: number } = { live: 0, parked: 0 },
  ): Promise<Float32Array[]> {
    const first = Math.min(...entries.map((e) => e.slot));
    const batch = Math.max(...entries.map((e) => e.slot)) + 1 - first;
    const width = Math.max(...entries.map((e) => e.tokens.length));
    const longest = Math.max(others.live, ...entries.map((e) => e.length));
    this.store.fit(Math.max(others.live, ...entries.map((e) => e.length + e.tokens.length)), Math.max(longest, others.parked));
    const capacity = this.store.capacity;
    const ids = new BigInt64Array(batch * width);
    const positions = new BigInt64Array(batch * width);
    const maskWidth = capacity + width;
    const mask = new BigInt64Array(batch * maskWidth);
    for (let b = 0; b < batch; b++) mask[b * maskWidth + capacity] = 1n;
    for (const e of entries) {
      const b = e.slot - first;
      const row = b * width;
      e.tokens.forEach((token, i) => {
        ids[row + i] = BigInt(token);
        positions[row + i] = BigInt(e.length + i);
      });
      mask.fill(1n, b * maskWidth, b * maskWidth + e.length);
      mask.fill(1n, b * maskWidth + capacity, b * maskWidth + capacity + e.tokens.length);
    }
    const feeds = this.baseFeeds(ids, positions, [batch, width], mask, [batch, maskWidth], width);
    for (const name of this.pastNames) feeds[name] = this.store.batchPast(name, first, batch);
    const out = await this.session.run(feeds, ['logits', ...this.rowNames]);
    this.pastNames.forEach((name, i) => {
      const rows = floats(out[this.rowNames[i]!]);
      for (const e of entries) this.store.write(name, e.slot, rows, e.slot - first, width, e.length, e.tokens.length);
    });
    return entries.map((e) => logitsAt(out['logits']!, e.slot - first, e.tokens.length - 1 - (width - 1)));
  }

  private baseFeeds(
    ids: BigInt64Array,
    positions: BigInt64Array,
    dims: number[],
    mask: BigInt64Array,
    maskDims: number[],
    keep: number,
  ): Record<string, ort.Tensor> {
    const g = this.graph;
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', ids, dims),
      position_ids: new ort.Tensor('int64', positions, dims),
      attention_mask: new ort.Tensor('int64', mask, maskDims),
    };
    // A row's last token need not be the batch's last position: keep the logits of all `keep`.
    if (g.hasLogitsToKeep) feeds['num_logits_to_keep'] = new ort.Tensor('int64', BigInt64Array.of(BigInt(keep)), []);
    if (g.hasUseCacheBranch) feeds['use_cache_branch'] = new ort.Tensor('bool', Uint8Array.of(1), [1]);
    return feeds;
  }
}

function floats(tensor: ort.Tensor | undefined): Float32Array {
  const data = tensor?.data;
  if (!(data instanceof Float32Array)) throw new Error('expected float32 rows');
  return data;
}

/**
 * The logits of batch row `row` at `fromEnd` positions before (≤ 0) the last kept one, a
 * copy the caller may modify.
 */
function logitsAt(logits: ort.Tensor, row: number, fromEnd: number): Float32Array {
  const data = logits.data;
  if (!(data instanceof Float32Array)) throw new Error(`unsupported logits type ${logits.type}`);
  const [, positions, vocab] = logits.dims as [number, number, number];
  const start = (row * positions + positions - 1 + fromEnd) * vocab;
  return data.slice(start, start + vocab);
}
