// The chat UI on the hub-style instruct exports (Qwen2 with ChatML, Llama-3.2) and the real
// worker engine: the persona becomes the template's system message, special tokens never
// reach the transcript, /context shows the rendered window, Esc stops a reply.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { cleanup } from 'ink-testing-library';
import { createEngine, type WorkerEngineClient } from '../../src/engine/worker/workerEngineClient.js';
import { strftime } from '../../src/prompt/templateRenderer.js';
import { HF_LLAMA_TINY, HF_QWEN2_TINY } from '../helpers/fixtures.js';
import { makeVariant } from '../helpers/fixtureVariants.js';
import { KEYS, makeDirs, startChat, type ChatDirs } from '../helpers/uiFakes.js';
import { waitUntil } from '../helpers/waitFor.js';

let engine: WorkerEngineClient;
let dirs: ChatDirs;
// Rotary models store no position table, so the same weights take a longer context: long
// enough that a reply is still streaming when Esc arrives, however fast the machine.
const longLlama = makeVariant(HF_LLAMA_TINY, { json: { 'config.json': { max_position_embeddings: 4096 } } });

before(async () => {
  dirs = await makeDirs();
  engine = createEngine({ cacheDir: path.join(dirs.root, 'cache') });
});

after(async () => {
  cleanup();
  await engine.dispose();
  longLlama.remove();
  // The session saved on /exit may still be writing into the folder.
  await rm(dirs.root, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
});

test('Qwen2: the persona is the system message, the reply shows no special tokens, /context shows the window', async () => {
  const chat = await startChat({
    engineClient: engine,
    dirs,
    flags: { model: HF_QWEN2_TINY, maxNewTokens: 6, temperature: 0, repetitionPenalty: 1 },
    args: { offline: true, session: 'qwen' },
  });
  await chat.waitFor(/hf-qwen2-tiny fp32/, 30_000);
  await chat.waitFor(/\d+\/256 tokens/);
  await chat.send('/system Be brief.');
  await chat.send('Hello there');
  await waitUntil(
    () => chat.controller.session.conversation.turns.length,
    (n) => n === 2,
    30_000,
    'a reply',
  );
  const reply = chat.controller.session.conversation.turns[1]!;
  assert.equal(reply.text, 'Firstly Firstly Firstly Firstly Firstly Firstly');
  assert.ok(!chat.frame().includes('<|im_'), 'no special token on screen');
  await chat.send('/context');
  const frame = await chat.waitFor('The window as the model reads it:');
  assert.ok(frame.includes('<|im_start|>system'), frame);
  assert.ok(frame.includes('Be brief.<|im_end|>'), frame);
  assert.ok(!frame.includes('You are a helpful assistant.'), "the persona replaces the template's default");
  await chat.send('/exit');
});

test("Llama-3.2: the system header carries the session's day; Esc stops a long reply", async () => {
  const chat = await startChat({
    engineClient: engine,
    dirs,
    flags: { model: longLlama.dir, maxNewTokens: 3000, temperature: 0, repetitionPenalty: 1 },
    args: { offline: true, session: 'llama' },
  });
  await chat.waitFor(/\d+\/4096 tokens/, 30_000);
  await chat.send('Hello there');
  await chat.waitFor('Attorney', 30_000);
  await chat.type(KEYS.escape);
  await waitUntil(
    () => chat.controller.session.conversation.turns.length,
    (n) => n === 2,
    30_000,
    'the partial reply',
  );
  const reply = chat.controller.session.conversation.turns[1]!;
  assert.equal(reply.meta?.interrupted, true);
  assert.ok(reply.meta!.generatedTokens < 3000, `stopped early (${reply.meta!.generatedTokens} tokens)`);
  await chat.send('/context');
  const frame = await chat.waitFor('The window as the model reads it:');
  const day = strftime(new Date(chat.controller.session.createdAt), '%d %b %Y');
  assert.ok(frame.includes(`Today Date: ${day}`), frame);
  assert.equal(frame.split('Cutting Knowledge Date').length - 1, 1, 'the system header once');
  await chat.send('/exit');
});
