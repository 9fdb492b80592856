// The chat UI on the real worker engine with the tiny generated model (random weights).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { cleanup } from 'ink-testing-library';
import { createEngine, type WorkerEngineClient } from '../../src/engine/worker/workerEngineClient.js';
import { tinyModelDir } from '../helpers/fixtures.js';
import { makeDirs, startChat, type ChatDirs } from '../helpers/uiFakes.js';
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
  await rm(dirs.root, { recursive: true, force: true });
});

test('a reply from the real engine streams in, the status bar follows, /exit saves', async () => {
  const chat = await startChat({
    engineClient: engine,
    dirs,
    flags: { model: modelDir, maxNewTokens: 12, temperature: 0 },
    args: { offline: true, session: 'real' },
  });
  await chat.waitFor('tiny-random fp32', 30_000);
  await chat.waitFor('random weights: output is noise');
  await chat.waitFor(/\d+\/1024 tokens/);
  await chat.send('Hello there');
  await waitUntil(
    () => chat.controller.session.conversation.turns.length,
    (n) => n === 2,
    30_000,
    'a reply',
  );
  await chat.waitFor(/\d+\.\d tok\/s/);
  const reply = chat.controller.session.conversation.turns[1];
  assert.equal(reply?.role, 'assistant');
  assert.equal(reply?.meta?.model, modelDir);
  await chat.send('/temp 0.3');
  await chat.waitFor('temp 0.3 top-k');
  await chat.send('/exit');
  const file = chat.store.pathOf('real');
  // The reply was autosaved already; /exit saves again, with the new temperature.
  const savedOnExit = (): boolean => existsSync(file) && readFileSync(file, 'utf8').includes('"temperature": 0.3');
  await waitUntil(savedOnExit, Boolean, 10_000, 'the session saved on exit');
  const saved = await chat.store.load('real');
  assert.equal(saved.conversation.turns.length, 2);
  assert.equal(saved.params.temperature, 0.3);
  assert.equal(saved.model, modelDir);
});
