// Continuous batching in the worker engine (as parley serve runs it): several generations
// at once give, token for token, what the single-sequence engine gives each alone.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createEngine, type WorkerEngineClient } from '../../../src/engine/worker/workerEngineClient.js';
import type { GenerateEvent, GenerateParams } from '../../../src/engine/protocol.js';
import { tinyModelDir } from '../../helpers/fixtures.js';

let batched: WorkerEngineClient;
let single: WorkerEngineClient;
let scratch: string;

const greedy: GenerateParams = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, maxNewTokens: 20, seed: null, minNewTokens: 20 };

async function collect(stream: AsyncIterable<GenerateEvent>, onToken?: (n: number) => void) {
  const ids: number[] = [];
  let text = '';
  let done: Extract<GenerateEvent, { type: 'done' }> | null = null;
  for await (const e of stream) {
    if (e.type === 'done') done = e;
    else {
      text += e.text;
      if (e.tokenId >= 0) ids.push(e.tokenId);
      onToken?.(ids.length);
    }
  }
  assert.ok(done);
  assert.equal(text, done.text);
  return { ids, done };
}

before(async () => {
  const dir = await tinyModelDir();
  scratch = await mkdtemp(path.join(os.tmpdir(), 'parley-batch-'));
  batched = createEngine({ cacheDir: scratch, batch: 4 });
  single = createEngine({ cacheDir: scratch });
  assert.equal((await batched.load(dir, { dtype: 'fp32', offline: true })).parallel, 4);
  assert.equal((await single.load(dir, { dtype: 'fp32', offline: true })).parallel, 1);
});

after(async () => {
  await Promise.all([batched?.dispose(), single?.dispose()]);
  await rm(scratch, { recursive: true, force: true });
});

test('six generations at once, prompts from 1 to ~400 tokens (several prefill chunks), sampled and greedy: each as the single engine gives it', async () => {
  const long = 'The quick brown fox jumps over the lazy dog. '.repeat(40);
  const requests: [string, GenerateParams][] = [
    ['Hello', greedy],
    [long, greedy],
    ['', greedy],
    ['Once upon a time there was a', { ...greedy, temperature: 0.9, topK: 40, topP: 0.9, seed: 7, repetitionPenalty: 1.2 }],
    [long.slice(0, 300), { ...greedy, maxNewTokens: 5, minNewTokens: 5 }],
    ['Numbers: 1 2 3', { ...greedy, maxNewTokens: 33, minNewTokens: 33 }],
  ];
  const alone: Awaited<ReturnType<typeof collect>>[] = [];
  for (const [prompt, params] of requests) alone.push(await collect(single.generate(prompt, params)));
  const together = await Promise.all(requests.map(([prompt, params]) => collect(batched.generate(prompt, params))));
  together.forEach((r, i) => {
    assert.deepEqual(r.ids, alone[i]!.ids, `request ${i}`);
    assert.equal(r.done.reason, 'length');
    assert.equal(r.done.promptTokens, alone[i]!.done.promptTokens);
  });
});

test('cancelling one generation stops it within a step; the others run to their end', async () => {
  const streams = [0, 1, 2].map((i) => batched.generate(`Story ${i}:`, { ...greedy, maxNewTokens: 200, minNewTokens: 200 }));
  const results = await Promise.all(streams.map((s, i) => collect(s, (n) => i === 1 && n === 3 && batched.cancel(s.requestId))));
  assert.equal(results[1]!.done.reason, 'cancelled');
  assert.ok(results[1]!.done.generatedTokens < 10, `${results[1]!.done.generatedTokens} tokens after the cancel`);
  assert.equal(results[0]!.done.generatedTokens, 200);
  assert.equal(results[2]!.done.generatedTokens, 200);
});

test('a conversation that grows turn by turn is served from the cache its slot kept', async () => {
  let prompt = 'User: Tell me about the sea.\nAssistant:';
  const first = await collect(batched.generate(prompt, greedy));
  prompt += `${first.done.text}\nUser: And the ships?\nAssistant:`;
  const second = await collect(batched.generate(prompt, greedy));
  assert.ok(
    (second.done.reusedTokens ?? 0) >= first.done.promptTokens,
    `reused ${second.done.reusedTokens} of ${second.done.promptTokens}`,
  );
  const fresh = await collect(single.generate(prompt, greedy));
  assert.deepEqual(second.ids, fresh.ids);
});
