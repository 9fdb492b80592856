// test/fixtures/hub-smollm2 (the contrib-op form of SmolLM2-Instruct's exports) loads in the real
// worker engine in each dtype and generates, as it is: its ChatML tokens, eos <|im_end|>, the float16
// KV cache of the fp16 files; and the fp16 files agree with their float32 twins on greedy tokens.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { createEngine, type WorkerEngineClient } from '../../src/engine/worker/workerEngineClient.js';
import type { GenerateParams } from '../../src/engine/protocol.js';
import type { Dtype } from '../../src/hub/dtypes.js';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { generateIds } from '../helpers/generateIds.js';

const DIR = path.join(REPO_ROOT, 'test', 'fixtures', 'hub-smollm2');
const GREEDY: GenerateParams = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, maxNewTokens: 6, minNewTokens: 6, seed: null };
const PROMPT = '<|im_start|>user\nhi there<|im_end|>\n<|im_start|>assistant\n';

const scratch: string[] = [];
const engines: WorkerEngineClient[] = [];
after(async () => {
  await Promise.all(engines.map((e) => e.dispose()));
  await Promise.all(scratch.map((d) => rm(d, { recursive: true, force: true })));
});

async function greedyIds(dtype: Dtype): Promise<number[]> {
  const cacheDir = await mkdtemp(path.join(os.tmpdir(), 'parley-contrib-'));
  scratch.push(cacheDir);
  const engine = createEngine({ cacheDir });
  engines.push(engine);
  const info = await engine.load(DIR, { dtype, offline: true, noConvert: true });
  assert.equal(info.dtype, dtype);
  assert.deepEqual(info.eosTokenIds, [2050]);
  const [ids] = await engine.tokenize([PROMPT]);
  assert.equal(ids![0], 2049, '<|im_start|> is one special token');
  const { ids: out, done } = await generateIds(engine, PROMPT, GREEDY);
  assert.equal(done.generatedTokens, 6);
  await engine.dispose();
  return out;
}

test('the fp32 and q4 files of the contrib-op export run as they are', async () => {
  assert.equal((await greedyIds('fp32')).length, 6);
  assert.equal((await greedyIds('q4')).length, 6);
});

test('the fp16 and q4f16 files (float16 KV cache) run as they are: fp16 gives fp32’s tokens, q4f16 q4’s', async () => {
  const fp32 = await greedyIds('fp32');
  const fp16 = await greedyIds('fp16');
  const q4 = await greedyIds('q4');
  const q4f16 = await greedyIds('q4f16');
  assert.deepEqual(fp16, fp32);
  assert.deepEqual(q4f16, q4);
});
