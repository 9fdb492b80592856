// Deterministic random numbers for generated weights: the same seed must give
// byte-identical model files, which Math.random cannot promise.
// xoshiro128** uses 32-bit integer arithmetic only, so the hot loop needs no BigInt;
// normal draws use Marsaglia's polar method.

function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  }
  return hash;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

export class SeededRandom {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /**
   * Each (seed, stream) pair is an independent sequence, so one tensor can be regenerated
   * on its own (by the file writer or by a test) without replaying all tensors before it.
   */
  constructor(seed: number, stream: string) {
    // splitmix32 spreads the hash over the four state words, never all zero.
    let state = fnv1a(`${seed}/${stream}`);
    const next = (): number => {
      state = (state + 0x9e3779b9) | 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) | 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next() | 1;
  }

  /** Fills `out` with draws from N(mean, std²), by Marsaglia's polar method (no trigonometry). */
  fillNormal(out: Float32Array, mean: number, std: number): void {
    // The generator state lives in locals here: this loop runs ~250M times for GPT-2 small.
    let s0 = this.s0;
    let s1 = this.s1;
    let s2 = this.s2;
    let s3 = this.s3;
    const scale = 2 / 4294967296;
    let i = 0;
    let u = 0;
    let haveU = false;
    while (i < out.length) {
      const draw = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
      const t = s1 << 9;
      s2 ^= s0;
      s3 ^= s1;
      s1 ^= s2;
      s0 ^= s3;
      s2 ^= t;
      s3 = rotl(s3, 11);
      if (!haveU) {
        u = draw * scale - 1;
        haveU = true;
        continue;
      }
      haveU = false;
      const v = draw * scale - 1;
      const s = u * u + v * v;
      if (s >= 1 || s === 0) continue;
      const m = std * Math.sqrt((-2 * Math.log(s)) / s);
      out[i++] = mean + u * m;
      if (i < out.length) out[i++] = mean + v * m;
    }
    this.s0 = s0;
    this.s1 = s1;
    this.s2 = s2;
    this.s3 = s3;
  }
}
