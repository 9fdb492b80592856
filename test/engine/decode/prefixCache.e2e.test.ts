// The worker reuses the previous request's KV cache for the longest common
// token prefix. With greedy decoding, replies must be token-for-token the same as without
// the cache, over a scripted conversation with slides, /retry, /undo and /edit.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import * as ort from 'onnxruntime-node';
import { createEngine, type WorkerEngineClient } from '../../../src/engine/worker/workerEngineClient.js';
import type { GenerateParams, GenerationStats, SamplingParams } from '../../../src/engine/protocol.js';
import {
  fitCapacity,
  newRowStore,
  pastTensor,
  type PresentKvCache,
  truncateKvCache,
  writeRows,
} from '../../../src/engine/decode/kvCache.js';
import { ROW_CAPACITY_STEP } from '../../../src/engine/decode/kvGrowth.js';
import { PrefixCache, commonPrefixLength } from '../../../src/engine/decode/prefixCache.js';
import { addUser, editLast, retry, undo } from '../../../src/prompt/conversation.js';
import { chatTurn, type ChatTurnResult } from '../../../src/chat/chatTurn.js';
import { transcriptFormat } from '../../../src/prompt/promptFormat.js';
import { newSession } from '../../../src/session/sessionStore.js';
import type { Session } from '../../../src/session/types.js';
import { shortContextModelDir } from '../../helpers/fixtures.js';
import { RecordingEngine } from '../../helpers/recordingEngine.js';
import { generateIds } from '../../helpers/generateIds.js';

describe('KV cache bookkeeping', () => {
  const cacheOf = (length: number): PresentKvCache => {
    // [1, 2 heads, length, 3]: value = head * 100 + position * 10 + column.
    const data = Float32Array.from({ length: 2 * length * 3 }, (_, i) => {
      const head = Math.floor(i / (length * 3));
      const position = Math.floor(i / 3) % length;
      return head * 100 + position * 10 + (i % 3);
    });
    return { kind: 'present', length, tensors: { k: new ort.Tensor('float32', data, [1, 2, length, 3]) } };
  };

  test('truncation keeps the first positions of every head', () => {
    const cut = truncateKvCache(cacheOf(4), 2);
    assert.equal(cut.length, 2);
    assert(cut.kind === 'present');
    assert.deepEqual(cut.tensors['k']!.dims, [1, 2, 2, 3]);
    assert.deepEqual([...(cut.tensors['k']!.data as Float32Array)], [0, 1, 2, 10, 11, 12, 100, 101, 102, 110, 111, 112]);
  });

  test('row buffers: appended rows land per head; growing and shrinking the layout keep them; cutting back is free', () => {
    // 2 heads of width 3; a row's values say (position, head, column).
    const store = newRowStore(['k'], 'float32', 2, 3, 200);
    const rowsAt = (from: number, count: number) =>
      Float32Array.from({ length: count * 2 * 3 }, (_, i) => (from + Math.floor(i / 6)) * 100 + (Math.floor(i / 3) % 2) * 10 + (i % 3));
    const expectLayout = (length: number) => {
      const past = pastTensor(store, 'k');
      assert.deepEqual(past.dims, [1, 2, store.capacity, 3]);
      const data = past.data as Float32Array;
      for (let h = 0; h < 2; h++) {
        for (let p = 0; p < length; p++) {
          const at = (h * store.capacity + p) * 3;
          assert.deepEqual([...data.subarray(at, at + 3)], [p * 100 + h * 10, p * 100 + h * 10 + 1, p * 100 + h * 10 + 2]);
        }
      }
    };
    fitCapacity(store, 5, 0);
    assert.equal(store.capacity, ROW_CAPACITY_STEP);
    writeRows(store, 'k', rowsAt(0, 5), 0, 5);
    expectLayout(5);
    for (let length = 5; length < 150; length++) {
      fitCapacity(store, length + 1, length);
      writeRows(store, 'k', rowsAt(length, 1), length, 1);
    }
    assert.equal(store.capacity, 3 * ROW_CAPACITY_STEP);
    expectLayout(150);
    const cut = truncateKvCache({ kind: 'rows', length: 150, store }, 40);
    assert.equal(cut.length, 40);
    assert(cut.kind === 'rows' && cut.store === store, 'the same buffers, no copy');
    assert.throws(() => fitCapacity(store, 201, 150), /exceed/);
    // The next pass after the cut needs little room: the layout shrinks, the 40 rows stay.
    fitCapacity(store, 41, 40);
    assert.equal(store.capacity, ROW_CAPACITY_STEP);
    expectLayout(40);
  });

  test('the prefix cache reuses the common prefix, always leaves a token to feed, and is taken once', () => {
    assert.equal(commonPrefixLength([1, 2, 3], [1, 2, 4]), 2);
    const prefix = new PrefixCache();
    prefix.keep([5, 6, 7, 8], cacheOf(4));
    const partial = prefix.take([5, 6, 9]);
    assert.equal(partial?.reused, 2);
    assert.equal(partial?.cache.length, 2);
    assert.equal(prefix.take([5, 6, 9]), null, 'a taken cache is gone until kept again');

    prefix.keep([5, 6, 7, 8], cacheOf(4));
    assert.equal(prefix.take([5, 6, 7, 8])?.reused, 3, 'the same prompt still feeds its last token');
    prefix.keep([5, 6, 7, 8], cacheOf(4));
    const longer = prefix.take([5, 6, 7, 8, 9]);
    assert.equal(longer?.reused, 4);
    assert.equal(longer?.cache.length, 4);
    prefix.keep([5, 6, 7, 8], cacheOf(4));
    assert.equal(prefix.take([1, 6, 7, 8]), null, 'nothing in common');
  });
});

const WORDS = ['hello', 'über', 'context', 'window', 'naïve', 'GPT-2', 'tokens', 'why?', 'x', 'cache', '🙂', 'prefix'];

function message(i: number): string {
  // Now and then a long message, so the 128-position window has to slide.
  const length = i % 8 === 6 ? 45 : 2 + ((i * 5) % 11);
  return Array.from({ length }, (_, j) => WORDS[(i * 7 + j * 5) % WORDS.length]).join(' ');
}

type Action = 'send' | 'retry' | 'undo' | 'edit';
const SCRIPT: Action[] = Array.from({ length: 30 }, (_, i) =>
  i === 0 ? 'send' : (['send', 'send', 'retry', 'send', 'undo', 'send', 'edit'] as const)[i % 7]!,
);

interface Transcript {
  replies: { ids: number[]; stats: GenerationStats }[];
  slides: number;
}

async function runScript(prefixCache: boolean): Promise<Transcript> {
  const cacheDir = await mkdtemp(path.join(os.tmpdir(), 'parley-prefix-'));
  const engine = new RecordingEngine(createEngine({ cacheDir, prefixCache }));
  try {
    await engine.load(await shortContextModelDir(), { dtype: 'fp32', offline: true });
    let session: Session = newSession('prefix', { persona: 'The assistant is brief.' });
    const format = transcriptFormat();
    let slides = 0;
    for (const [i, action] of SCRIPT.entries()) {
      let conversation = session.conversation;
      if (action === 'send') conversation = addUser(conversation, message(i));
      else if (action === 'retry') conversation = retry(conversation)!;
      else if (action === 'undo') conversation = addUser(undo(conversation)!, message(i));
      else {
        const edited = editLast(conversation)!;
        conversation = addUser(edited.conversation, `${edited.text} (edited)`);
      }
      // A sampling change in the middle keeps the cache; greedy keeps replies comparable.
      const params: SamplingParams = {
        temperature: 0,
        topK: 0,
        topP: 1,
        repetitionPenalty: i < 15 ? 1 : 1.3,
        maxNewTokens: 16,
        seed: null,
      };
      let result: ChatTurnResult | null = null;
      for await (const e of chatTurn({ engine, session: { ...session, conversation }, params, format })) {
        if (e.type === 'done') result = e.result;
      }
      assert.ok(result, `turn ${i} ends with a result`);
      assert.notEqual(result.reason, 'error', `turn ${i}: ${result.error}`);
      if (result.window?.slid) slides++;
      session = result.session;
    }
    assert.equal(engine.replies.length, SCRIPT.length);
    return { replies: engine.replies, slides };
  } finally {
    await engine.dispose();
    await rm(cacheDir, { recursive: true, force: true });
  }
}

test('30 greedy turns with slides, /retry, /undo and /edit: the same tokens with and without the prefix cache', async () => {
  const without = await runScript(false);
  const withCache = await runScript(true);
  assert.ok(withCache.slides > 0, 'the window slid at least once');
  assert.equal(withCache.slides, without.slides);
  withCache.replies.forEach((reply, i) => {
    const plain = without.replies[i]!;
    assert.deepEqual(reply.ids, plain.ids, `turn ${i} (${SCRIPT[i]}): replies differ`);
    assert.equal(reply.stats.promptTokens, plain.stats.promptTokens);
    assert.ok(!(plain.stats.reusedTokens! > 0), `turn ${i}: nothing is reused without the cache`);
    if (i === 0) assert.equal(reply.stats.reusedTokens, 0);
    else assert.ok(reply.stats.reusedTokens! > 0, `turn ${i} (${SCRIPT[i]}) reused nothing`);
    // A retry sends the same prompt again: all of it but the last token comes from the cache.
    if (SCRIPT[i] === 'retry') assert.equal(reply.stats.reusedTokens, reply.stats.promptTokens - 1);
  });
  const reused = withCache.replies.reduce((sum, r) => sum + r.stats.reusedTokens!, 0);
  const prompts = withCache.replies.reduce((sum, r) => sum + r.stats.promptTokens, 0);
  assert.ok(reused > prompts / 2, `only ${reused} of ${prompts} prompt tokens came from the cache`);
});

test('after a cancelled reply the cache is still exact; loading a model drops it', async () => {
  const cacheDir = await mkdtemp(path.join(os.tmpdir(), 'parley-prefix-'));
  const cached = createEngine({ cacheDir, prefixCache: true });
  const plain = createEngine({ cacheDir, prefixCache: false });
  const params: GenerateParams = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, maxNewTokens: 30, seed: null, minNewTokens: 30 };
  const run = (engine: WorkerEngineClient, prompt: string, cancelAfter = Infinity) => generateIds(engine, prompt, params, cancelAfter);
  try {
    const dir = await shortContextModelDir();
    await cached.load(dir, { dtype: 'fp32', offline: true });
    await plain.load(dir, { dtype: 'fp32', offline: true });
    const prompt = 'User: tell me about caches\nAssistant:';
    const stopped = await run(cached, prompt, 5);
    assert.equal(stopped.done.reason, 'cancelled');
    const followUp = `${prompt} caches are fast\nUser: and then?\nAssistant:`;
    const withCache = await run(cached, followUp);
    assert.ok(withCache.done.reusedTokens! > 0);
    assert.deepEqual(withCache.ids, (await run(plain, followUp)).ids);

    await cached.load(dir, { dtype: 'fp32', offline: true });
    assert.equal((await run(cached, followUp)).done.reusedTokens, 0, 'a loaded model starts with no cache');
  } finally {
    await cached.dispose();
    await plain.dispose();
    await rm(cacheDir, { recursive: true, force: true });
  }
});
