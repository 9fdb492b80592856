// The chat UI end to end on a scripted engine: sending, streaming, stopping, loading.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { cleanup } from 'ink-testing-library';
import { EngineError } from '../../src/engine/engineClient.js';
import { FRAME_MS } from '../../src/chat/view/tokenBatcher.js';
import { KEYS, startChat } from '../helpers/uiFakes.js';
import { waitUntil } from '../helpers/waitFor.js';

afterEach(() => cleanup());

test('a sent message streams its reply into the live area, then into the transcript', async () => {
  // Tokens further apart than a frame, so each gets a frame of its own.
  const chat = await startChat({ engine: { scripts: [{ tokens: [' Hello', ' there,', ' friend.'], delayMs: FRAME_MS + 100 }] } });
  await chat.waitFor('Model gpt2 ready');
  await chat.send('hi');
  await chat.waitFor('› hi');
  // Part of the reply is shown while the rest is still coming.
  const partial = await chat.waitFor(/Hello there,[\s\S]*Esc stops the reply/);
  assert.ok(!partial.includes('friend.'));
  const done = await chat.waitFor(/Hello there, friend\.[\s\S]*tok\/s/);
  assert.ok(!done.includes('Esc stops the reply'));
  const turns = chat.controller.session.conversation.turns;
  assert.deepEqual(
    turns.map((t) => [t.role, t.text]),
    [
      ['user', 'hi'],
      ['assistant', 'Hello there, friend.'],
    ],
  );
});

test('a long reply: finished lines move to the transcript as they fill, each shown once', async () => {
  // 60 words of 6-7 columns over a 98-column reply area: several screen lines.
  const tokens = Array.from({ length: 60 }, (_, i) => ` word${String(i).padStart(2, '0')}`);
  const chat = await startChat({ engine: { scripts: [{ tokens, delayMs: 15 }] } });
  await chat.waitFor('Model gpt2 ready');
  await chat.send('talk');
  // While it streams, the first line is already in the transcript, above the live area.
  const streaming = await chat.waitFor(/word00[\s\S]*word30[\s\S]*Esc stops the reply/);
  assert.equal(streaming.split('word00').length - 1, 1, 'a settled line is not also live');
  const done = await chat.waitFor(/word59[\s\S]*tok\/s/);
  for (const token of tokens) assert.equal(done.split(token.trim()).length - 1, 1, `${token} once`);
  const lines = done.split('\n').filter((line) => line.includes('word'));
  assert.ok(lines.length >= 4, 'the reply spans several lines');
  assert.ok(
    lines.every((line) => line.startsWith('  ') && line.length <= 100),
    'indented, within the width',
  );
  assert.equal(chat.controller.session.conversation.turns.at(-1)?.text, tokens.join('').trim());
});

test('Esc stops a reply; the partial text is kept and marked interrupted', async () => {
  const tokens = Array.from({ length: 200 }, (_, i) => ` w${i}`);
  const chat = await startChat({ engine: { scripts: [{ tokens, delayMs: 20 }] } });
  await chat.waitFor('Model gpt2 ready');
  await chat.send('talk');
  await chat.waitFor('w2');
  await chat.type(KEYS.escape);
  await chat.waitFor('(interrupted)');
  const reply = chat.controller.session.conversation.turns.at(-1);
  assert.equal(reply?.role, 'assistant');
  assert.equal(reply?.meta?.interrupted, true);
  assert.ok(!reply?.text.includes('w199'));
});

test('Ctrl+C during a reply stops it without leaving', async () => {
  const tokens = Array.from({ length: 200 }, (_, i) => ` w${i}`);
  const chat = await startChat({ engine: { scripts: [{ tokens, delayMs: 20 }] } });
  await chat.waitFor('Model gpt2 ready');
  await chat.send('talk');
  await chat.waitFor('w2');
  await chat.type(KEYS.ctrlC);
  await chat.waitFor('(interrupted)');
  assert.ok(!chat.frame().includes('Press Ctrl+C again'));
  await chat.type(KEYS.ctrlC);
  await chat.waitFor('Press Ctrl+C again to exit');
});

test('a message sent while the model loads waits for it', async () => {
  const chat = await startChat({
    engine: { scripts: [{ tokens: [' Ready', ' now.'] }] },
    plans: { gpt2: { delayMs: 300, downloads: [['onnx/model.onnx', 250_000, 1_000_000]] } },
  });
  await chat.waitFor(/onnx\/model\.onnx \[.*\] +25% 244 kB\/977 kB/);
  await chat.waitFor('loading gpt2');
  await chat.send('early bird');
  await chat.waitFor('waiting for the model to load');
  await chat.waitFor('Ready now.');
  assert.equal(chat.controller.session.conversation.turns.length, 2);
});

test('first run without a model: plain words, the way out, and the demo model', async () => {
  const chat = await startChat({
    plans: {
      gpt2: { error: new EngineError('network', 'cannot reach http://mirror.test: ECONNREFUSED') },
      demo: { randomWeights: true },
    },
  });
  await chat.waitFor('Cannot load gpt2: cannot reach http://mirror.test: ECONNREFUSED (the model is not in the cache).');
  const frame = await chat.waitFor('parley --model demo');
  assert.match(frame, /\/model \.\/path/);
  assert.match(frame, /parley\s+--model\s+\.\/path/);
  assert.match(frame, /no model/);
  assert.doesNotMatch(frame, /at .*\.js:\d+/);
  await chat.send('/model demo');
  await chat.waitFor('random weights: output is noise');
  await chat.waitFor('its replies are noise');
});

test('a failed model switch keeps the old model', async () => {
  const chat = await startChat({ plans: { broken: { error: new EngineError('model-corrupt', 'model.onnx is truncated') } } });
  await chat.waitFor('Model gpt2 ready');
  await chat.send('/model broken');
  await chat.waitFor('Cannot load broken: model.onnx is truncated');
  await chat.waitFor('Still using gpt2.');
  assert.equal(chat.controller.chat.slot.ref, 'gpt2');
});

test('a pasted block with newlines is one message', async () => {
  const chat = await startChat({ engine: { fallback: { tokens: [' ok'] } } });
  await chat.waitFor('Model gpt2 ready');
  await chat.type(KEYS.pasteStart, 'first line\rsecond line\r', KEYS.pasteEnd, KEYS.enter);
  await chat.waitFor(' ok');
  const users = chat.controller.session.conversation.turns.filter((t) => t.role === 'user');
  assert.deepEqual(
    users.map((t) => t.text),
    ['first line\nsecond line\n'],
  );
});

test('every exit saves the session, and the input history is there next time', async () => {
  const first = await startChat({ engine: { fallback: { tokens: [' fine'] } } });
  await first.waitFor('Model gpt2 ready');
  await first.send('remember me');
  await first.waitFor(' fine');
  await first.type(KEYS.ctrlD);
  const file = first.store.pathOf(first.controller.session.name);
  await waitUntil(() => existsSync(file), Boolean);
  const saved = await first.store.load(first.controller.session.name);
  assert.deepEqual(
    saved.conversation.turns.map((t) => t.text),
    ['remember me', 'fine'],
  );
  cleanup();
  const second = await startChat({ dirs: first.dirs });
  await second.waitFor('Model gpt2 ready');
  await second.type(KEYS.up);
  await second.waitFor('› remember me');
});

test('Esc takes back a message that is still waiting for the model', async () => {
  const chat = await startChat({ plans: { gpt2: { delayMs: 400 } } });
  await chat.waitFor('loading gpt2');
  await chat.send('never mind');
  await chat.waitFor('waiting for the model to load');
  await chat.type(KEYS.escape);
  await chat.waitFor('Not sent; your message is back in the input box.');
  await chat.waitFor('› never mind');
  assert.equal(chat.controller.session.conversation.turns.length, 0);
  await chat.waitFor('Model gpt2 ready');
  assert.equal(chat.engine.calls.length, 0);
});

test('an engine crash is reported in plain words', async () => {
  const chat = await startChat();
  await chat.waitFor('Model gpt2 ready');
  chat.engine.crash('worker exited with code 134');
  await chat.waitFor('The model engine stopped unexpectedly: the engine crashed (worker exited with code 134); restarting it.');
  await chat.waitFor('The engine is back: model gpt2 ready.');
});
