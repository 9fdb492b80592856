// TTFT and decode speed of the real worker engine at short and long
// contexts, against the memory-bandwidth limit (weights plus the KV cache read per step).
import path from 'node:path';
import { onnxFileFor } from '../src/engine/load/modelLoader.js';
import type { Dtype } from '../src/engine/protocol.js';
import type { WorkerEngineClient } from '../src/engine/worker/workerEngineClient.js';
import { log, median, round } from './benchStats.js';
import { GREEDY_FULL_LENGTH, helloPrompt, NEW_TOKENS, PROMPT_LENGTHS } from './benchParams.js';
import { kvBytesPerToken, kvLayout } from './kvCacheBytes.js';

const RUNS = 3;

export interface Shape {
  n_layer: number;
  n_embd: number;
  vocab_size: number;
}

export interface DecodeCase {
  dtype: Dtype;
  promptTokens: number;
  newTokens: number;
  ttftMs: number;
  decodeTokPerS: number;
  weightBytesPerToken: number;
  /** KV-cache bytes one step reads, at the mean context of the decode (prompt + newTokens / 2). */
  kvBytesPerToken: number;
  /** bandwidth / (weight + KV bytes per token). */
  limitTokPerS: number;
  fractionOfLimit: number;
}

/** Bytes of weights one decode step reads: every matmul weight (incl. the tied LM head) once,
 * plus biases and LayerNorms; only one row of each embedding is gathered, so those are left out. */
function weightBytesPerToken(shape: Shape, dtype: Dtype): number {
  const { n_layer: L, n_embd: E, vocab_size: V } = shape;
  const matmul = L * 12 * E * E + V * E;
  const small = L * 13 * E + 2 * E;
  // q4: 4-bit blocks of 32 with a float scale each (0.625 bytes a weight), the LM head int8.
  if (dtype === 'q4') return L * 12 * E * E * (0.5 + 4 / 32) + V * E + 4 * small + 4 * V;
  return dtype === 'q8' ? matmul + 4 * small + 4 * (L * 12 * E + V) : 4 * (matmul + small);
}

async function timeGeneration(engine: WorkerEngineClient, prompt: string): Promise<{ ttftMs: number; tps: number; promptTokens: number }> {
  for await (const e of engine.generate(prompt, GREEDY_FULL_LENGTH)) {
    if (e.type !== 'done') continue;
    if (e.reason !== 'length') throw new Error(`generation ended early: ${e.reason} ${e.error ?? ''}`);
    return { ttftMs: e.ttftMs, tps: e.tokensPerSecond, promptTokens: e.promptTokens };
  }
  throw new Error('the generation ended without a done event');
}

/**
 * Every prompt length for one dtype. The engine must run without the prefix cache, or the
 * repeated prompt would be reused and TTFT would not be a full prefill.
 */
export async function decodeCases(
  engine: WorkerEngineClient,
  modelDir: string,
  shape: Shape,
  dtype: Dtype,
  bandwidthGBs: number,
): Promise<DecodeCase[]> {
  const layout = await kvLayout(path.join(modelDir, onnxFileFor(dtype)));
  await engine.load(modelDir, { dtype, offline: true });
  await timeGeneration(engine, 'warm up'.repeat(8)); // the first run after loading is slow
  const cases: DecodeCase[] = [];
  for (const n of PROMPT_LENGTHS) {
    const prompt = helloPrompt(n);
    const runs = [];
    for (let i = 0; i < RUNS; i++) runs.push(await timeGeneration(engine, prompt));
    if (runs[0]!.promptTokens !== n) throw new Error(`prompt was ${runs[0]!.promptTokens} tokens, wanted ${n}`);
    const weightBytes = weightBytesPerToken(shape, dtype);
    const kvBytes = kvBytesPerToken(layout, n + NEW_TOKENS / 2);
    const limitTokPerS = (bandwidthGBs * 1e9) / (weightBytes + kvBytes);
    const decodeTokPerS = median(runs.map((r) => r.tps));
    const c: DecodeCase = {
      dtype,
      promptTokens: n,
      newTokens: NEW_TOKENS,
      ttftMs: round(median(runs.map((r) => r.ttftMs))),
      decodeTokPerS: round(decodeTokPerS),
      weightBytesPerToken: weightBytes,
      kvBytesPerToken: kvBytes,
      limitTokPerS: round(limitTokPerS),
      fractionOfLimit: round(decodeTokPerS / limitTokPerS, 3),
    };
    log(JSON.stringify(c));
    cases.push(c);
  }
  return cases;
}

/** decodeRatio for each dtype that has cases. */
export function decodeRatios(cases: readonly DecodeCase[]): Partial<Record<Dtype, number>> {
  const dtypes = [...new Set(cases.map((c) => c.dtype))];
  return Object.fromEntries(dtypes.map((d) => [d, decodeRatio(cases.filter((c) => c.dtype === d))]));
}

/** Decode speed at the longest context over decode at the shortest, for one dtype's cases. */
export function decodeRatio(cases: readonly DecodeCase[]): number {
  const at = (n: number): number => cases.find((c) => c.promptTokens === n)!.decodeTokPerS;
  return round(at(PROMPT_LENGTHS[PROMPT_LENGTHS.length - 1]!) / at(PROMPT_LENGTHS[0]), 3);
}
