// Detokenising in the real threads: the tokenizer thread hands a byte-level tokenizer's byte
// table to the engine, which then streams replies whose text is transformers.js's decode of
// their ids; other tokenizers stream through the thread.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { RemoteTokenizer, TOKENIZER_YOUNG_GENERATION_MB } from '../../../src/engine/tokenizer/remoteTokenizer.js';
import { createEngine } from '../../../src/engine/worker/workerEngineClient.js';
import type { GenerateParams } from '../../../src/engine/protocol.js';
import { HF_GPT2_TINY, HF_LLAMA_TINY, HF_QWEN2_TINY } from '../../helpers/fixtures.js';
import { loadTokenizer, sentencePieceTokenizer } from '../../helpers/tokenizerFolders.js';

let scratch: string;
before(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'parley-detok-engine-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

const load = (ref: string): Promise<RemoteTokenizer> => RemoteTokenizer.load({ ref, offline: true, cacheDir: scratch }, () => {});

test('byte-level tokenizers decode in the engine thread; a SentencePiece one through its thread, a window at a time', async () => {
  for (const dir of [HF_GPT2_TINY, HF_QWEN2_TINY, HF_LLAMA_TINY]) {
    const remote = await load(dir);
    try {
      assert.equal(remote.decodesLocally, true, dir);
      // 161 is the byte 0xE5, which starts a three-byte character; 99999 is past every vocabulary.
      const ids = [15496, 50256, 161, 11, 50257, 995, 50000, 99999];
      const d = remote.incremental();
      let text = '';
      for (const id of ids) text += await d.push(id);
      assert.equal(text + (await d.finish()), (await loadTokenizer(dir)).decode(ids));
    } finally {
      await remote.release();
    }
  }
  const dir = await sentencePieceTokenizer(path.join(scratch, 'sp'), 'llama2');
  const local = await loadTokenizer(dir);
  const remote = await load(dir);
  try {
    assert.equal(remote.decodesLocally, false);
    const ids = [266, 261, 3 + 0xe2, 3 + 0x82, 3 + 0xac, 1, 262, 3 + 0xe2];
    const d = remote.incremental();
    let text = '';
    for (const id of ids) text += await d.push(id);
    assert.equal(text + (await d.finish()), local.decode(ids));
  } finally {
    await remote.release();
  }
});

test('the tokenizer thread runs with a small young generation, and encodes a long text in it', async () => {
  const remote = await load(HF_QWEN2_TINY);
  try {
    assert.equal(remote.heapLimits?.maxYoungGenerationSizeMb, TOKENIZER_YOUNG_GENERATION_MB);
    const text = 'The quick brown fox jumps over the lazy dog; 12345 times. '.repeat(2000);
    const [ids] = await remote.encode([text]);
    assert.deepEqual(ids, (await loadTokenizer(HF_QWEN2_TINY)).tokenizer.encode(text, { add_special_tokens: false }));
  } finally {
    await remote.release();
  }
});

test('a sampled reply streams deltas that add up to the decode of its ids, cut at a stop', async () => {
  const engine = createEngine({ cacheDir: scratch });
  try {
    for (const dir of [HF_QWEN2_TINY, HF_GPT2_TINY]) {
      await engine.load(dir, { dtype: 'fp32', offline: true });
      const local = await loadTokenizer(dir);
      for (const stop of [[], ['e']]) {
        // A hot, wide sampler on random weights: arbitrary ids, multi-byte characters split between them.
        const params: GenerateParams = { temperature: 3, topK: 0, topP: 1, repetitionPenalty: 1, maxNewTokens: 60, seed: 7, stop };
        const ids: number[] = [];
        let streamed = '';
        let final = '';
        for await (const e of engine.generate('Hello', params)) {
          if (e.type === 'token') {
            streamed += e.text;
            if (e.tokenId >= 0) ids.push(e.tokenId);
          } else if (e.type === 'done') final = e.text;
        }
        const whole = local.decode(ids);
        assert.equal(streamed, final, dir);
        const cut = stop.length > 0 ? whole.indexOf(stop[0]!) : -1;
        assert.equal(final, cut === -1 ? whole : whole.slice(0, cut), `${dir} ${JSON.stringify(ids)}`);
        if (stop.length > 0) assert.notEqual(cut, -1, 'the hot sampler reached the stop');
      }
    }
  } finally {
    await engine.dispose();
  }
});
