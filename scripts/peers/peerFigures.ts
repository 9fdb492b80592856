// One timed case of `npm run bench:peers` per engine, each in a fresh process under
// /usr/bin/time (peak RSS), and the alternating rounds that compare them.

import { fileURLToPath } from 'node:url';
import type { Dtype } from '../../src/engine/protocol.js';
import { median, round } from '../benchStats.js';
import { type LlamaCpp, llamaBench, timed } from '../llamaCppPeer.js';

export interface Figures {
  ttftMs: number;
  decodeTokPerS: number;
  peakRssMB: number;
}

export const NEW_TOKENS = 128;

/** Parley on `dir` in `dtype`: the real worker engine, a prompt of `n` tokens, 128 greedy tokens. */
export async function parleyCase(dir: string, dtype: Dtype, n: number, options: { noConvert?: boolean } = {}): Promise<Figures> {
  const script = fileURLToPath(new URL('../peerParleyRun.js', import.meta.url));
  const args = ['--single-threaded-gc', script, dir, dtype, String(n), ...(options.noConvert ? ['--no-convert'] : [])];
  const { stdout, peakRssMB } = await timed(process.execPath, args);
  const result = JSON.parse(stdout.trim().split('\n').pop()!) as { ttftMs: number; decodeTokPerS: number };
  return { ttftMs: result.ttftMs, decodeTokPerS: result.decodeTokPerS, peakRssMB };
}

/** llama.cpp on `file`: prompt processing of `n` tokens (TTFT), then 128 tokens after `n` of context. */
export async function llamaCase(peer: LlamaCpp, file: string, n: number, poll?: number): Promise<Figures> {
  const prompt = await llamaBench(peer, file, { prompt: n }, 2, poll);
  const decode = await llamaBench(peer, file, { generate: NEW_TOKENS, depth: n }, 2, poll);
  return { ttftMs: (n / prompt.tokPerS) * 1000, decodeTokPerS: decode.tokPerS, peakRssMB: Math.max(prompt.peakRssMB, decode.peakRssMB) };
}

export const medianOf = (runs: Figures[]): Figures => ({
  ttftMs: round(median(runs.map((r) => r.ttftMs))),
  decodeTokPerS: round(median(runs.map((r) => r.decodeTokPerS))),
  peakRssMB: Math.max(...runs.map((r) => r.peakRssMB)),
});

/** a ÷ b for each figure. */
export const ratiosOf = (a: Figures, b: Figures): Figures => ({
  ttftMs: round(a.ttftMs / b.ttftMs, 3),
  decodeTokPerS: round(a.decodeTokPerS / b.decodeTokPerS, 3),
  peakRssMB: round(a.peakRssMB / b.peakRssMB, 3),
});

/**
 * `rounds` runs of each case, alternating which goes first so that drifting load favours
 * none; the median of each (peak RSS: the largest).
 */
export async function alternate(rounds: number, cases: readonly (() => Promise<Figures>)[]): Promise<Figures[]> {
  const runs: Figures[][] = cases.map(() => []);
  for (let r = 0; r < rounds; r++) {
    const order = cases.map((_, i) => i);
    if (r % 2 === 1) order.reverse();
    for (const i of order) runs[i]!.push(await cases[i]!());
  }
  return runs.map(medianOf);
}
