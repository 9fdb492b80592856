// The message queue and Esc on the real worker engine (the tiny generated model): messages
// sent while a reply streams wait, Esc takes back the newest, the rest go out in order.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { cleanup } from 'ink-testing-library';
import { createEngine, type WorkerEngineClient } from '../../src/engine/worker/workerEngineClient.js';
import { tinyModelDir } from '../helpers/fixtures.js';
import { KEYS, makeDirs, startChat, type ChatDirs } from '../helpers/uiFakes.js';
import { waitUntil } from '../helpers/waitFor.js';

let engine: WorkerEngineClient;
let dirs: ChatDirs;
let modelDir: string;

before(async () => {
  modelDir = await tinyModelDir();
  dirs = await makeDirs();
  engine = createEngine({ cacheDir: path.join(dirs.root, 'cache') });
});

after(async () => {
  cleanup();
  await engine.dispose();
  await rm(dirs.root, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
});

test('with the real engine: messages queue behind a streaming reply, Esc takes back the newest, the rest follow in order', async () => {
  const chat = await startChat({
    engineClient: engine,
    dirs,
    flags: { model: modelDir, maxNewTokens: 300, temperature: 1, seed: 7 },
    args: { offline: true, session: 'queue' },
  });
  await chat.waitFor('tiny-random fp32', 30_000);
  await chat.waitFor(/\d+\/1024 tokens/);
  await chat.send('first');
  await chat.send('second');
  await chat.send('third');
  await chat.waitFor('queued: third', 10_000);
  assert.ok(chat.frame().includes('queued: second'));
  await chat.type(KEYS.escape);
  await waitUntil(
    () => chat.frame(),
    (f) => !f.includes('queued: third'),
    5000,
    'the newest queued message taken back',
  );
  const texts = (): string =>
    chat.controller.session.conversation.turns.map((t) => `${t.role}:${t.role === 'user' ? t.text : ''}`).join(' ');
  await waitUntil(texts, (t) => t === 'user:first assistant: user:second assistant:', 60_000, 'both replies');
  const turns = chat.controller.session.conversation.turns;
  assert.ok((turns[1]?.meta?.generatedTokens ?? 0) > 0);
  assert.equal(turns[1]?.meta?.interrupted, false);
  assert.ok(!chat.frame().includes('queued:'));

  // With nothing queued, Esc stops the reply; nothing is sent after it.
  await chat.send('fourth');
  await waitUntil(
    () => chat.controller.getState().live?.text ?? '',
    (t) => t.length > 0,
    30_000,
    'the fourth reply streaming',
  );
  await chat.type(KEYS.escape);
  await waitUntil(
    () => chat.controller.session.conversation.turns.length,
    (n) => n === 6,
    30_000,
    'the stopped reply kept',
  );
  assert.equal(chat.controller.session.conversation.turns[5]?.meta?.interrupted, true);
  await chat.send('/exit');
});
