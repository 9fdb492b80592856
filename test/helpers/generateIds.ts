// Runs one generation to its end and keeps the token ids and the final stats; with
// `cancelAfter`, cancels once that many ids have arrived (an Esc at a known point).
import assert from 'node:assert/strict';
import type { EngineClient } from '../../src/engine/engineClient.js';
import type { GenerateParams, GenerationStats } from '../../src/engine/protocol.js';

export async function generateIds(
  engine: EngineClient,
  prompt: string,
  params: GenerateParams,
  cancelAfter = Infinity,
): Promise<{ ids: number[]; done: GenerationStats }> {
  const ids: number[] = [];
  let done: GenerationStats | null = null;
  for await (const e of engine.generate(prompt, params)) {
    if (e.type === 'token' && e.tokenId >= 0 && ids.push(e.tokenId) === cancelAfter) engine.cancel();
    if (e.type === 'done') done = e;
  }
  assert.ok(done);
  return { ids, done };
}
