// Issue "session layer", done-when: 50 turns against the real engine never overflow, on the
// tiny model (1024 positions) and on one with only 128 positions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { createEngine } from '../../src/engine/worker/workerEngineClient.js';
import { addUser } from '../../src/prompt/conversation.js';
import { chatTurn, type ChatTurnResult } from '../../src/chat/chatTurn.js';
import { transcriptFormat } from '../../src/prompt/promptFormat.js';
import { newSession } from '../../src/session/sessionStore.js';
import { TokenCountCache } from '../../src/prompt/tokenCountCache.js';
import { shortContextModelDir, tinyModelDir } from '../helpers/fixtures.js';

const WORDS = ['hello', 'über', '🙂', 'context', 'window', 'naïve', '日本語', 'GPT-2', 'tokens', '\n', 'why?', 'x'];

function message(i: number): string {
  // Mostly short messages, now and then a very long one (longer than the 128-position model).
  const length = i % 9 === 4 ? 400 : 3 + ((i * 7) % 25);
  return Array.from({ length }, (_, j) => WORDS[(i * 31 + j * 17) % WORDS.length]).join(' ');
}

for (const [name, dirOf, maxNewTokens, maxSlides] of [
  // With 960 tokens of budget the window slides in steps; with 104 almost every turn must.
  ['tiny model, 1024 positions', tinyModelDir, 64, 25],
  ['short-context model, 128 positions', shortContextModelDir, 24, 50],
] as const) {
  test(`50 turns never overflow: ${name}`, async () => {
    const cache = await mkdtemp(path.join(os.tmpdir(), 'parley-long-'));
    const engine = createEngine({ cacheDir: cache });
    try {
      const info = await engine.load(await dirOf(), { dtype: 'fp32', offline: true });
      const counter = new TokenCountCache();
      let session = newSession('long', { persona: 'The assistant is brief.' });
      const format = transcriptFormat();
      let maxDropped = 0;
      let slides = 0;
      for (let i = 0; i < 50; i++) {
        session = { ...session, conversation: addUser(session.conversation, message(i)) };
        let result: ChatTurnResult | null = null;
        for await (const e of chatTurn({
          engine,
          session,
          params: { temperature: 0.8, topK: 50, topP: 0.95, repetitionPenalty: 1.1, maxNewTokens, seed: i },
          format,
          countTokens: counter.counter(info.modelId, (texts) => engine.countTokens(texts)),
        })) {
          if (e.type === 'done') result = e.result;
        }
        assert.ok(result, 'every turn ends with a result');
        assert.notEqual(result.reason, 'error', `turn ${i}: ${result.error}`);
        const w = result.window!;
        assert.ok(w.promptTokens <= w.budget, `turn ${i}: ${w.promptTokens} > ${w.budget}`);
        assert.equal(w.budget, info.contextLength - maxNewTokens);
        assert.ok(result.reply, `turn ${i} has a reply`);
        assert.ok(result.reply.meta!.promptTokens + maxNewTokens <= info.contextLength);
        maxDropped = Math.max(maxDropped, w.droppedCount);
        if (w.slid) slides++;
        session = result.session;
      }
      assert.equal(session.conversation.turns.length, 100, 'every turn is kept in the conversation');
      assert.ok(maxDropped > 0, 'the window had to drop turns');
      assert.ok(slides <= maxSlides, `the window slides in steps, not every turn (${slides} slides)`);
    } finally {
      await engine.dispose();
      await rm(cache, { recursive: true, force: true });
    }
  });
}
