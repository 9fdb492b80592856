import type { SamplingParams } from '../protocol.js';

/** sfc32: small, fast, seedable; one instance per generation so a seed reproduces a reply. */
export function createRng(seed: number): () => number {
  let a = 0x9e3779b9 ^ seed;
  let b = 0x243f6a88 ^ Math.imul(seed, 0x85ebca6b);
  let c = 0xb7e15162 ^ Math.imul(seed, 0xc2b2ae35);
  let d = 1;
  const next = (): number => {
    a >>>= 0;
    b >>>= 0;
    c >>>= 0;
    d >>>= 0;
    const t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    const r = (t + d) | 0;
    c = (c + r) | 0;
    return (r >>> 0) / 4294967296;
  };
  for (let i = 0; i < 15; i++) next(); // decorrelate nearby seeds
  return next;
}

type Sampling = Pick<SamplingParams, 'temperature' | 'topK' | 'topP' | 'repetitionPenalty'>;

/**
 * Picks the next token from one row of logits. Applies, in the usual order: repetition penalty
 * (CTRL-style, over tokens already in the context), temperature, top-k, top-p. Temperature 0
 * is greedy. `logits` is modified in place (the caller owns a copy).
 */
export function sampleNextToken(logits: Float32Array, params: Sampling, seen: ReadonlySet<number>, rng: () => number): number {
  if (params.repetitionPenalty !== 1) {
    for (const id of seen) {
      const v = logits[id];
      if (v === undefined) continue;
      logits[id] = v > 0 ? v / params.repetitionPenalty : v * params.repetitionPenalty;
    }
  }
  if (params.temperature <= 0) return argmax(logits);

  // Keep only the candidates top-k allows, sorted by logit. Without top-k, top-p decides,
  // and only the tokens above its cut-off logit need sorting, not the whole vocabulary.
  const byTopK = params.topK > 0;
  const candidates = byTopK
    ? topIndices(logits, Math.min(params.topK, logits.length))
    : indicesAbove(logits, topPCutoff(logits, params.temperature, params.topP));
  const invT = 1 / params.temperature;
  let maxLogit = -Infinity;
  for (const c of candidates) maxLogit = Math.max(maxLogit, logits[c]!);
  const probs = new Float64Array(candidates.length);
  let total = 0;
  for (let i = 0; i < candidates.length; i++) {
    const p = Math.exp((logits[candidates[i]!]! - maxLogit) * invT);
    probs[i] = p;
    total += p;
  }
  // top-p: the smallest prefix whose mass reaches topP (always at least one token).
  let keep = candidates.length;
  if (byTopK && params.topP < 1) {
    let mass = 0;
    for (let i = 0; i < candidates.length; i++) {
      mass += probs[i]! / total;
      if (mass >= params.topP) {
        keep = i + 1;
        break;
      }
    }
  }
  let keptTotal = 0;
  for (let i = 0; i < keep; i++) keptTotal += probs[i]!;
  let r = rng() * keptTotal;
  for (let i = 0; i < keep; i++) {
    r -= probs[i]!;
    if (r <= 0) return candidates[i]!;
  }
  return candidates[keep - 1]!;
}

export function argmax(values: Float32Array): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v > bestValue) {
      bestValue = v;
      best = i;
    }
  }
  return best;
}

/** The smallest logit that top-p keeps, found on a sorted copy of the values only. */
function topPCutoff(logits: Float32Array, temperature: number, topP: number): number {
  if (topP >= 1) return -Infinity;
  const sorted = Float32Array.from(logits).sort().reverse();
  const invT = 1 / temperature;
  const max = sorted[0]!;
  let total = 0;
  for (let i = 0; i < sorted.length; i++) total += Math.exp((sorted[i]! - max) * invT);
  let mass = 0;
  for (let i = 0; i < sorted.length; i++) {
    mass += Math.exp((sorted[i]! - max) * invT) / total;
    if (mass >= topP) return sorted[i]!;
  }
  return -Infinity;
}

/** Unordered: sampling from a set does not need it sorted. */
function indicesAbove(values: Float32Array, cutoff: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < values.length; i++) if (values[i]! >= cutoff) out.push(i);
  return out;
}

/** Indices of the k largest values, largest first. Partial selection keeps top-50 of 50k cheap. */
function topIndices(values: Float32Array, k: number): number[] {
  if (k >= values.length) return indicesAbove(values, -Infinity).sort((x, y) => values[y]! - values[x]!);
  const heap: number[] = []; // min-heap of indices by value
  const less = (i: number, j: number): boolean => values[heap[i]!]! < values[heap[j]!]!;
  const swap = (i: number, j: number): void => {
    const t = heap[i]!;
    heap[i] = heap[j]!;
    heap[j] = t;
  };
  const siftDown = (start: number): void => {
    let i = start;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && less(l, m)) m = l;
      if (r < heap.length && less(r, m)) m = r;
      if (m === i) return;
      swap(i, m);
      i = m;
    }
  };
  for (let i = 0; i < values.length; i++) {
    if (heap.length < k) {
      heap.push(i);
      let c = heap.length - 1;
      while (c > 0) {
        const p = (c - 1) >> 1;
        if (!less(c, p)) break;
        swap(c, p);
        c = p;
      }
    } else if (values[i]! > values[heap[0]!]!) {
      heap[0] = i;
      siftDown(0);
    }
  }
  return heap.sort((x, y) => values[y]! - values[x]!);
}
