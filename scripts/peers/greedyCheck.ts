// The check before any timing counts: on a peaked model (sharp next-token distributions, so
// no greedy choice flips on rounding), Parley's greedy text — engine.generate on the raw
// prompt, the call /v1/completions makes — must begin with llama-simple's on the GGUF of the
// same weights.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createEngine } from '../../src/engine/worker/workerEngineClient.js';
import { type LlamaCpp, llamaSimple } from '../llamaCppPeer.js';

export interface GreedyCheck {
  equal: boolean;
  parley: string;
  llama: string;
}

export const CHECK_PROMPT = 'The quick brown fox jumps over the lazy dog';

export async function greedyCheck(peer: LlamaCpp, folder: string, gguf: string, prompt = CHECK_PROMPT): Promise<GreedyCheck> {
  const cacheDir = await mkdtemp(path.join(os.tmpdir(), 'parley-peer-check-'));
  const engine = createEngine({ cacheDir, prefixCache: false });
  let parley = '';
  try {
    await engine.load(folder, { dtype: 'fp32', offline: true });
    const params = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 1, maxNewTokens: 40 };
    for await (const e of engine.generate(prompt, params)) if (e.type === 'done') parley = e.text;
  } finally {
    await engine.dispose();
    await rm(cacheDir, { recursive: true, force: true });
  }
  // llama-simple prints the prompt, then the 32 tokens it chose (fewer if it chose an end token).
  const out = await llamaSimple(peer, gguf, prompt, 32);
  const llama = out.replace(/\n$/, '').slice(prompt.length);
  return { equal: llama.length > 0 && parley.startsWith(llama), parley, llama };
}
