// How a KV store's capacity follows the positions it must hold: the one growth policy of the
// single sequence's RowStore (kvCache.ts) and the batch's SlotStore (batch/slotStore.ts).

/** Capacity changes in steps of this many positions: each change moves the cache once. */
export const ROW_CAPACITY_STEP = 64;

/**
 * Relays buffers laid out as `blocks` blocks of `capacity` rows, each row `width` wide, for
 * `needed` positions, keeping the first `keep` rows of every block (as many as the old and
 * the new capacity hold). The capacity follows the need both ways, in steps: it grows as a
 * cache gets longer, and after a cache was cut back (a window that slid, a long request
 * followed by short ones) it shrinks, or every pass would attend over the old padding. Blocks
 * move last first when growing and first first when shrinking, so no row is overwritten
 * before it has moved. Returns the new capacity.
 */
export function regrow(
  buffers: Iterable<Float32Array | Uint16Array>,
  layout: { blocks: number; width: number; capacity: number; maxPositions: number },
  needed: number,
  keep: number,
): number {
  const { blocks, width: d, capacity: old, maxPositions } = layout;
  if (needed > maxPositions) throw new Error(`${needed} positions exceed the model's ${maxPositions}`);
  const capacity = Math.min(maxPositions, Math.ceil(needed / ROW_CAPACITY_STEP) * ROW_CAPACITY_STEP);
  if (capacity === old) return old;
  const kept = Math.max(0, Math.min(keep, capacity, old));
  for (const data of buffers) {
    for (let i = 0; i < blocks; i++) {
      const b = capacity > old ? blocks - 1 - i : i;
      data.copyWithin(b * capacity * d, b * old * d, (b * old + kept) * d);
    }
  }
  return capacity;
}
