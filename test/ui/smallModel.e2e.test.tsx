// A model with 128 positions through the real UI and the real engine: the default reply
// length adapts, a user's value that does not fit is lowered for it, and the status bar
// shows the context from the start.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { cleanup } from 'ink-testing-library';
import { replyBudget } from '../../src/chat/replyBudget.js';
import { createEngine, type WorkerEngineClient } from '../../src/engine/worker/workerEngineClient.js';
import { shortContextModelDir, tinyModelDir } from '../helpers/fixtures.js';
import { makeDirs, startChat, type ChatDirs } from '../helpers/uiFakes.js';
import { waitUntil } from '../helpers/waitFor.js';

let engine: WorkerEngineClient;
let dirs: ChatDirs;
let smallDir: string;
let bigDir: string;

before(async () => {
  [smallDir, bigDir] = await Promise.all([shortContextModelDir(), tinyModelDir()]);
  dirs = await makeDirs();
  engine = createEngine({ cacheDir: path.join(dirs.root, 'cache') });
});

after(async () => {
  cleanup();
  await engine.dispose();
  await rm(dirs.root, { recursive: true, force: true });
});

test('reply budget: defaults take at most a quarter of the context; a user value is lowered only when it does not fit', () => {
  assert.deepEqual(replyBudget(128, 'default', 128), { maxNewTokens: 32, lowered: false });
  assert.deepEqual(replyBudget(128, 'default', 1024), { maxNewTokens: 128, lowered: false });
  assert.deepEqual(replyBudget(100, 'session', 128), { maxNewTokens: 100, lowered: false });
  assert.deepEqual(replyBudget(500, 'flag', 128), { maxNewTokens: 32, lowered: true });
  assert.deepEqual(replyBudget(500, 'settings', 1024), { maxNewTokens: 500, lowered: false });
});

test('on a 128-position model the default reply length fits, the status bar shows the context at once, a message gets a reply', async () => {
  const chat = await startChat({ engineClient: engine, dirs, flags: { model: smallDir, temperature: 0 }, args: { offline: true } });
  await chat.waitFor('128 tokens of context', 30_000);
  await chat.waitFor(/\d+\/128 tokens/);
  await chat.send('Hello there');
  await waitUntil(
    () => chat.controller.session.conversation.turns.length,
    (n) => n === 2,
    30_000,
    'a reply',
  );
  assert.ok(!chat.frame().includes('must be below'), chat.frame());
  const reply = chat.controller.session.conversation.turns[1];
  assert.ok((reply?.meta?.generatedTokens ?? 0) <= 32);
  assert.equal(reply?.meta?.params.maxNewTokens, 32);
});

test('a max-tokens value that does not fit the next model is lowered for it with a notice, never a failed turn', async () => {
  const chat = await startChat({ engineClient: engine, dirs, flags: { model: bigDir, temperature: 0 }, args: { offline: true } });
  await chat.waitFor('1024 tokens of context', 30_000);
  await chat.send('/max-tokens 400');
  await chat.waitFor('max tokens set to 400');
  await chat.send(`/model ${smallDir}`);
  await chat.waitFor('max tokens 400 does not fit tiny-random-128 (128 tokens of context): using 32 with it.', 30_000);
  await chat.waitFor(/\d+\/128 tokens/);
  await chat.send('Hello');
  await waitUntil(
    () => chat.controller.session.conversation.turns.length,
    (n) => n === 2,
    30_000,
    'a reply',
  );
  assert.ok(!chat.frame().includes('The reply failed'), chat.frame());
  assert.equal(chat.controller.session.params.maxNewTokens, 400, 'the user value stays for other models');
});

test('a message too long for the window is not cut silently: the numbers first, then sent cut or given back', async () => {
  const chat = await startChat({ engineClient: engine, dirs, flags: { model: smallDir, temperature: 0 }, args: { offline: true } });
  await chat.waitFor('128 tokens of context', 30_000);
  const long = Array.from({ length: 60 }, (_, i) => `line ${i} of a long paste`).join(' ');
  await chat.send(long);
  // The question wraps at the terminal's width: read the frame as one line.
  const oneLine = (): string => chat.frame().replace(/\s+/g, ' ');
  const question =
    /Your message is (\d+) tokens; (\d+) fit with a 32-token reply\. Send it cut \(its start dropped\)\? No puts it back in the input box, to shorten it or lower \/max-tokens\. \(y\/N\)/;
  await waitUntil(oneLine, (f) => question.test(f), 30_000, 'the question');
  const [, whole, kept] = question.exec(oneLine())!;
  assert.ok(Number(whole) > 128 && Number(kept) < 128 - 32, `${whole} tokens, ${kept} kept`);
  assert.equal(chat.controller.session.conversation.turns.length, 0, 'nothing sent before the answer');
  await chat.send('n');
  await chat.waitFor('Not sent: your message is back in the input box.');
  await chat.waitFor('line 59 of a long paste');
  assert.equal(chat.controller.session.conversation.turns.length, 0);
  // Sent as it is this time (Enter on the returned text), and answered yes.
  await chat.send('');
  await waitUntil(oneLine, (f) => question.test(f), 30_000, 'the question again');
  await chat.send('y');
  await waitUntil(
    () => chat.controller.session.conversation.turns.length,
    (n) => n === 2,
    30_000,
    'a reply',
  );
  assert.equal(chat.controller.session.conversation.turns[0]?.text, long, 'the transcript keeps the whole message');
});
