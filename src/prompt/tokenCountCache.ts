// Token counts of texts, cached per model, so the context window does not re-tokenize
// every earlier turn on every message. Misses are counted in one batched call (one round
// trip to the engine worker). Bounded by total cached characters and by entries, least
// recently used out.

export type CountTokens = (texts: string[]) => Promise<number[]>;

const DEFAULT_MAX_CHARS = 4_000_000;
/** Each entry costs a Map slot beyond its characters: a session of many short turns is bounded too. */
const DEFAULT_MAX_ENTRIES = 50_000;

export class TokenCountCache {
  // Map iteration order is insertion order: re-inserting on a hit makes it an LRU.
  private readonly entries = new Map<string, number>();
  private chars = 0;

  constructor(
    private readonly maxChars = DEFAULT_MAX_CHARS,
    private readonly maxEntries = DEFAULT_MAX_ENTRIES,
  ) {}

  /** A counter for one model's tokenizer that answers from the cache where it can. */
  counter(modelId: string, count: CountTokens): CountTokens {
    return async (texts) => {
      const results: (number | undefined)[] = texts.map((t) => this.hit(modelId, t));
      const missing = [...new Set(texts.filter((_, i) => results[i] === undefined))];
      if (missing.length > 0) {
        const counts = await count(missing);
        if (counts.length !== missing.length) throw new Error(`token counter returned ${counts.length} counts for ${missing.length} texts`);
        const fresh = new Map(missing.map((t, i) => [t, counts[i] as number]));
        for (const [text, n] of fresh) this.store(modelId, text, n);
        texts.forEach((t, i) => (results[i] ??= fresh.get(t)));
      }
      return results as number[];
    };
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
    this.chars = 0;
  }

  private hit(modelId: string, text: string): number | undefined {
    const key = keyOf(modelId, text);
    const n = this.entries.get(key);
    if (n !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, n);
    }
    return n;
  }

  private store(modelId: string, text: string, n: number): void {
    const key = keyOf(modelId, text);
    if (key.length > this.maxChars) return;
    if (!this.entries.has(key)) this.chars += key.length;
    this.entries.set(key, n);
    for (const oldest of this.entries.keys()) {
      if (this.chars <= this.maxChars && this.entries.size <= this.maxEntries) break;
      this.entries.delete(oldest);
      this.chars -= oldest.length;
    }
  }
}

// The NUL separator cannot occur in a model id, so keys of different models never collide.
const keyOf = (modelId: string, text: string): string => `${modelId}\0${text}`;
