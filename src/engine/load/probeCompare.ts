// How a converted graph's logits are judged against the export's (pure functions).
//
// fp32: the same maths in other kernels (fused LayerNorm, attention, GELU), so only float
// rounding differs: every logit within FP32_ABS + FP32_REL × the largest |logit|.
// Quantized graphs: against the source's logits, top-1 agreement and mean KL(source ‖ q). The
// limits are there to catch a misread structure (a wrong head count, weights from the wrong
// node), which gives a KL far above 1 and a near-random top-1; they do not judge a
// quantization the user asked for: a correct 4-bit graph of a real small model can lie above a
// KL of 0.05 (llama.cpp's Q4_0 on small models often does), and is what the user chose.

export interface ProbeVerdict {
  ok: boolean;
  /** One line for /stats and notices. */
  summary: string;
  maxAbsDiff: number;
  top1: number;
  meanKl: number;
}

export const FP32_ABS = 1e-4;
export const FP32_REL = 1e-4;
/** Quantized thresholds: a graph that fails them is rejected. */
export const QUANTIZED_LIMITS = {
  q8: { top1: 0.5, meanKl: 0.5 },
  q4: { top1: 0.4, meanKl: 0.5 },
} as const;

function logSoftmax(row: Float32Array): Float64Array {
  let max = -Infinity;
  for (const x of row) if (x > max) max = x;
  let sum = 0;
  for (const x of row) sum += Math.exp(x - max);
  const logSum = Math.log(sum) + max;
  return Float64Array.from(row, (x) => x - logSum);
}

function argmax(row: Float32Array): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}

/** KL(p ‖ q) in nats for logits rows p and q. */
export function klDivergence(p: Float32Array, q: Float32Array): number {
  const lp = logSoftmax(p);
  const lq = logSoftmax(q);
  let kl = 0;
  for (let i = 0; i < lp.length; i++) kl += Math.exp(lp[i]!) * (lp[i]! - lq[i]!);
  return Math.max(0, kl);
}

export interface LogitStats {
  maxAbsDiff: number;
  maxAbs: number;
  top1: number;
  meanKl: number;
}

/** Compares two equally long lists of logits rows (reference first). */
export function compareLogits(reference: readonly Float32Array[], candidate: readonly Float32Array[]): LogitStats {
  if (reference.length !== candidate.length || reference.length === 0) throw new Error('probe rows differ in number');
  let maxAbsDiff = 0;
  let maxAbs = 0;
  let agree = 0;
  let kl = 0;
  reference.forEach((ref, i) => {
    const cand = candidate[i]!;
    if (ref.length !== cand.length) throw new Error('probe rows differ in width');
    for (let j = 0; j < ref.length; j++) {
      const d = Math.abs(ref[j]! - cand[j]!);
      if (!(d <= maxAbsDiff)) maxAbsDiff = Number.isNaN(d) ? Infinity : d;
      maxAbs = Math.max(maxAbs, Math.abs(ref[j]!));
    }
    if (argmax(ref) === argmax(cand)) agree++;
    kl += klDivergence(ref, cand);
  });
  return { maxAbsDiff, maxAbs, top1: agree / reference.length, meanKl: kl / reference.length };
}

export function judgeProbe(precision: 'fp32' | 'q8' | 'q4', stats: LogitStats, positions: number, exactSource = true): ProbeVerdict {
  const figures = `top-1 ${(stats.top1 * 100).toFixed(1)} %, mean KL ${stats.meanKl.toExponential(2)} over ${positions} positions`;
  // An fp32 graph from a float16 or quantized source: the source's own arithmetic differs from
  // fp32 by more than rounding, so it is judged as a q8 graph is (the structure, not the bits).
  if (precision === 'fp32' && !exactSource) {
    const verdict = judgeProbe('q8', stats, positions);
    return { ...verdict, summary: `max |Δlogit| ${stats.maxAbsDiff.toExponential(2)}, ${verdict.summary}` };
  }
  if (precision === 'fp32') {
    const tolerance = FP32_ABS + FP32_REL * stats.maxAbs;
    const ok = stats.maxAbsDiff <= tolerance;
    const summary = `max |Δlogit| ${stats.maxAbsDiff.toExponential(2)} (tolerance ${tolerance.toExponential(2)}${ok ? '' : '; failed: above it'}), ${figures}`;
    return { ok, summary, ...pick(stats) };
  }
  const limits = QUANTIZED_LIMITS[precision];
  const ok = stats.top1 >= limits.top1 && stats.meanKl <= limits.meanKl;
  const failed = [
    ...(stats.top1 < limits.top1 ? [`top-1 below ${limits.top1 * 100} %`] : []),
    ...(stats.meanKl > limits.meanKl ? [`KL above ${limits.meanKl}`] : []),
  ];
  const summary = `${figures} (needs top-1 ≥ ${limits.top1 * 100} %, KL ≤ ${limits.meanKl}${failed.length ? `; failed: ${failed.join(', ')}` : ''})`;
  return { ok, summary, ...pick(stats) };
}

function pick(stats: LogitStats): { maxAbsDiff: number; top1: number; meanKl: number } {
  return { maxAbsDiff: stats.maxAbsDiff, top1: stats.top1, meanKl: stats.meanKl };
}
