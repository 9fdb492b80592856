import { type KvCache, truncateKvCache } from './kvCache.js';

/**
 * The KV cache the last request left behind, with the exact token ids it holds, so the next
 * prompt only prefills what differs. Token ids decide, never text: a cached position is
 * reused only when every id before it matches too.
 */
export class PrefixCache {
  private entry: { tokens: readonly number[]; cache: KvCache } | null = null;

  /**
   * Hands over the cache for `prompt`, cut to the longest common prefix, and empties itself:
   * whoever takes it must keep() a consistent cache again, so a request that fails leaves
   * nothing stale behind. At least one prompt token is always left to feed, as the next
   * logits come from it. Null when nothing can be reused.
   */
  take(prompt: readonly number[]): { cache: KvCache; reused: number } | null {
    const entry = this.entry;
    this.entry = null;
    if (!entry) return null;
    const reused = Math.min(commonPrefixLength(entry.tokens, prompt), prompt.length - 1);
    if (reused <= 0) return null;
    const cache = reused === entry.cache.length ? entry.cache : truncateKvCache(entry.cache, reused);
    return { cache, reused };
  }

  /** Remembers `cache`, which holds exactly `tokens` (one id per cached position). */
  keep(tokens: readonly number[], cache: KvCache): void {
    if (tokens.length !== cache.length) throw new Error(`${tokens.length} token ids for a KV cache of ${cache.length}`);
    this.entry = { tokens, cache };
  }

  clear(): void {
    this.entry = null;
  }
}

export function commonPrefixLength(a: readonly number[], b: readonly number[]): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i++;
  return i;
}
