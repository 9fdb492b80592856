// Messages sent while a reply streams: queued under the reply, taken back by Esc or Ctrl+C
// before the reply is stopped, sent one by one as replies end; and no notice lands inside
// a streaming reply.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { cleanup } from 'ink-testing-library';
import { KEYS, startChat, type Chat } from '../helpers/uiFakes.js';
import type { FakeScript } from '../helpers/fakeEngine.js';
import { waitUntil } from '../helpers/waitFor.js';
import { queuedPreview } from '../../src/ui/QueuedMessages.js';

afterEach(() => cleanup());

const words = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => ` ${prefix}${i}`);

async function streaming(scripts: FakeScript[]): Promise<Chat> {
  const chat = await startChat({ engine: { scripts } });
  await chat.waitFor('Model gpt2 ready');
  await chat.send('talk');
  await chat.waitFor(scripts[0]!.tokens[3]!.trim());
  return chat;
}

const roles = (chat: Chat): string => chat.controller.session.conversation.turns.map((t) => t.role).join(',');
const userTexts = (chat: Chat): string[] => chat.controller.session.conversation.turns.filter((t) => t.role === 'user').map((t) => t.text);

test('two queued messages go out one by one, each after the reply before it', async () => {
  const chat = await streaming([
    { tokens: words('a', 60), delayMs: 10 },
    { tokens: words('b', 30), delayMs: 10 },
    { tokens: words('c', 5), delayMs: 10 },
  ]);
  await chat.send('second');
  await chat.send('third');
  await chat.waitFor('queued: second');
  await chat.waitFor('queued: third');
  await chat.waitFor('Esc removes the newest');
  // The queue lines sit under the reply, above the input box; Esc's first use is the queue's.
  const frame = chat.frame();
  assert.ok(!frame.includes('Esc stops the reply'), frame);
  assert.ok(frame.indexOf('queued: second') < frame.indexOf('queued: third'));
  assert.ok(frame.indexOf('queued: third') < frame.lastIndexOf('›'));
  await waitUntil(
    () => roles(chat),
    (r) => r === 'user,assistant,user,assistant,user,assistant',
    8000,
    'three replies',
  );
  assert.deepEqual(userTexts(chat), ['talk', 'second', 'third']);
  assert.equal(chat.engine.calls.length, 3);
  assert.ok(!chat.frame().includes('queued:'));
});

test('Esc takes back the newest queued message first; the next Esc stops the reply', async () => {
  const chat = await streaming([{ tokens: words('a', 200), delayMs: 10 }, { tokens: words('b', 5) }]);
  await chat.send('keep me');
  await chat.send('drop me');
  await chat.waitFor('queued: drop me');
  await chat.type(KEYS.escape);
  await waitUntil(
    () => chat.frame(),
    (f) => !f.includes('queued: drop me'),
    3000,
    'the newest queued message removed',
  );
  assert.ok(chat.frame().includes('queued: keep me'));
  // The reply still streams: the first Esc did not stop it.
  assert.equal(chat.controller.session.conversation.turns.length, 1);
  await chat.type(KEYS.escape);
  await waitUntil(
    () => chat.frame(),
    (f) => !f.includes('queued: keep me'),
    3000,
    'the queue emptied',
  );
  assert.equal(chat.controller.session.conversation.turns.length, 1, 'the reply is still streaming');
  await chat.type(KEYS.escape);
  await chat.waitFor('(interrupted)');
  // Nothing was queued any more, so nothing follows the stopped reply.
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(userTexts(chat), ['talk']);
  assert.equal(chat.engine.calls.length, 1);
});

test('Ctrl+C takes back a queued message before it stops the reply', async () => {
  const chat = await streaming([{ tokens: words('a', 200), delayMs: 10 }]);
  await chat.send('later');
  await chat.waitFor('queued: later');
  await chat.type(KEYS.ctrlC);
  await waitUntil(
    () => chat.frame(),
    (f) => !f.includes('queued: later'),
    3000,
    'the queued message removed',
  );
  assert.equal(chat.controller.session.conversation.turns.length, 1, 'the reply still streams');
  await chat.type(KEYS.ctrlC);
  await chat.waitFor('(interrupted)');
  assert.ok(!chat.frame().includes('Press Ctrl+C again to exit'));
});

test('a reply stopped by /exit does not send the queue to a closing chat', async () => {
  const chat = await streaming([{ tokens: words('a', 200), delayMs: 10 }]);
  await chat.send('never sent');
  await chat.waitFor('queued: never sent');
  await chat.send('/exit');
  await waitUntil(
    () => chat.controller.session.conversation.turns.length,
    (n) => n === 2,
    3000,
    'the stopped reply kept',
  );
  await new Promise((r) => setTimeout(r, 100));
  assert.deepEqual(userTexts(chat), ['talk']);
  assert.equal(chat.engine.calls.length, 1);
});

test('after a failed reply the queued message goes back into the input box, not to the model', async () => {
  const chat = await streaming([{ tokens: words('a', 30), delayMs: 10, reason: 'error', error: 'the engine fell over' }]);
  await chat.send('after the failure');
  await chat.waitFor('queued: after the failure');
  await chat.waitFor('The reply failed: the engine fell over');
  await chat.waitFor('back in the input box');
  await chat.waitFor('› after the failure');
  assert.deepEqual(userTexts(chat), ['talk']);
  assert.equal(chat.engine.calls.length, 1);
});

test('a command typed during a reply runs, and its notice is printed after the reply, never inside it', async () => {
  const chat = await streaming([{ tokens: words('w', 120), delayMs: 8 }]);
  await chat.send('/temp 0.3');
  await chat.waitFor('temperature set to 0.3');
  // While the reply streams, the notice waits under it.
  const during = chat.frame();
  assert.ok(during.indexOf('temperature set to 0.3') > during.lastIndexOf(' w'), 'the notice is below the reply text');
  await chat.waitFor('w119');
  await waitUntil(
    () => chat.controller.session.conversation.turns.length,
    (n) => n === 2,
    3000,
    'the reply stored',
  );
  const after = chat.frame();
  // The whole reply comes before the echo of the command and its notice.
  assert.ok(after.indexOf('w119') < after.indexOf('› /temp 0.3'), after);
  assert.ok(after.indexOf('› /temp 0.3') < after.indexOf('temperature set to 0.3'));
  assert.equal(chat.count('temperature set to 0.3'), 1);
});

test('a queued message is shown on one line without control sequences', () => {
  assert.equal(queuedPreview('first line\nsecond \u001b[31mred\u001b[0m'), 'first line ⏎ second red');
});
