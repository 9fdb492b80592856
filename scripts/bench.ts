// npm run bench: speed of the real worker engine on a GPT-2-small-shaped model (random weights).
// Prints progress on stderr and one JSON object as the last line of stdout.
import os from 'node:os';
import path from 'node:path';
import { mkdtemp, readFile } from 'node:fs/promises';
import { createEngine } from '../src/engine/workerEngineClient.js';
import type { Dtype, GenerateParams } from '../src/engine/protocol.js';
import { gpt2SmallDir } from '../test/helpers/fixtures.js';
import { measureBandwidth } from './bandwidth.js';

const PROMPT_LENGTHS = [16, 512, 896];
const NEW_TOKENS = 128;
const RUNS = 3;

interface Shape {
  n_layer: number;
  n_embd: number;
  vocab_size: number;
}

/** Bytes of weights one decode step reads: every matmul weight (incl. the tied LM head) once,
 * plus biases and LayerNorms; only one row of each embedding is gathered, so those are left out. */
function weightBytesPerToken(shape: Shape, dtype: Dtype): number {
  const { n_layer: L, n_embd: E, vocab_size: V } = shape;
  const matmul = L * 12 * E * E + V * E;
  const small = L * 13 * E + 2 * E;
  return dtype === 'q8' ? matmul + 4 * small + 4 * (L * 12 * E + V) : 4 * (matmul + small);
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const log = (msg: string): void => void process.stderr.write(`${msg}\n`);

async function main(): Promise<void> {
  log('preparing the GPT-2-small-shaped model (generated once into .cache/models)…');
  const dir = await gpt2SmallDir(true);
  const shape = JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8')) as Shape;
  log('measuring memory bandwidth (2 threads, 2 GiB)…');
  const bandwidthGBs = await measureBandwidth(2);
  log(`bandwidth ${bandwidthGBs.toFixed(1)} GB/s`);

  const engine = createEngine({ cacheDir: await mkdtemp(path.join(os.tmpdir(), 'parley-bench-')) });
  const cases = [];
  try {
    for (const dtype of ['fp32', 'q8'] as const) {
      await engine.load(dir, { dtype, offline: true });
      const params: GenerateParams = {
        temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 1,
        maxNewTokens: NEW_TOKENS, minNewTokens: NEW_TOKENS,
      };
      const run = async (prompt: string): Promise<{ ttftMs: number; tps: number; promptTokens: number }> => {
        let result = { ttftMs: 0, tps: 0, promptTokens: 0 };
        for await (const e of engine.generate(prompt, params)) {
          if (e.type === 'done') {
            if (e.reason !== 'length') throw new Error(`generation ended early: ${e.reason} ${e.error ?? ''}`);
            result = { ttftMs: e.ttftMs, tps: e.tokensPerSecond, promptTokens: e.promptTokens };
          }
        }
        return result;
      };
      await run('warm up'.repeat(8)); // the first run after loading is slow
      for (const n of PROMPT_LENGTHS) {
        // " hello" is one GPT-2 token, so this prompt is exactly n tokens.
        const prompt = 'hello' + ' hello'.repeat(n - 1);
        const runs = [];
        for (let i = 0; i < RUNS; i++) runs.push(await run(prompt));
        if (runs[0]!.promptTokens !== n) throw new Error(`prompt was ${runs[0]!.promptTokens} tokens, wanted ${n}`);
        const bytes = weightBytesPerToken(shape, dtype);
        const limitTokPerS = (bandwidthGBs * 1e9) / bytes;
        const decodeTokPerS = median(runs.map((r) => r.tps));
        const c = {
          dtype,
          promptTokens: n,
          newTokens: NEW_TOKENS,
          ttftMs: +median(runs.map((r) => r.ttftMs)).toFixed(1),
          decodeTokPerS: +decodeTokPerS.toFixed(1),
          weightBytesPerToken: bytes,
          limitTokPerS: +limitTokPerS.toFixed(1),
          fractionOfLimit: +(decodeTokPerS / limitTokPerS).toFixed(3),
        };
        log(JSON.stringify(c));
        cases.push(c);
      }
    }
  } finally {
    await engine.dispose();
  }
  const cpu = os.cpus()[0]?.model ?? 'unknown';
  console.log(JSON.stringify({ cases, bandwidthGBs: +bandwidthGBs.toFixed(1), node: process.version, cpu }));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : String(err));
  process.exit(1);
});
