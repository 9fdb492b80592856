// What the keyboard does while a reply streams: settings commands apply (and survive the
// end of the turn), /exit stops and saves, a message is told to wait.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { cleanup } from 'ink-testing-library';
import { startChat, type Chat } from '../helpers/uiFakes.js';
import { waitUntil } from '../helpers/waitFor.js';

afterEach(() => cleanup());

async function streaming(): Promise<Chat> {
  const tokens = Array.from({ length: 100 }, (_, i) => ` w${i}`);
  const chat = await startChat({ engine: { scripts: [{ tokens, delayMs: 10 }] } });
  await chat.waitFor('Model gpt2 ready');
  await chat.send('talk');
  await chat.waitFor('w3');
  return chat;
}

test('/temp and /system typed while a reply streams apply, and the end of the reply keeps them', async () => {
  const chat = await streaming();
  await chat.send('/temp 0.3');
  await chat.waitFor('temperature set to 0.3 for this session.');
  await chat.send('/system You are terse.');
  await chat.waitFor('Persona set.');
  await chat.waitFor('w99');
  await waitUntil(
    () => chat.controller.session.conversation.turns.length,
    (n) => n === 2,
    3000,
    'the reply stored',
  );
  const session = chat.controller.session;
  assert.equal(session.params.temperature, 0.3);
  assert.equal(session.conversation.persona, 'You are terse.');
  assert.match(session.conversation.turns.at(-1)?.text ?? '', /w99$/);
  await chat.waitFor('temp 0.3');
});

test('/exit while a reply streams stops it, keeps the partial reply marked interrupted and saves', async () => {
  const chat = await streaming();
  await chat.send('/exit');
  const file = chat.store.pathOf(chat.controller.session.name);
  await waitUntil(() => existsSync(file), Boolean, 3000, 'the session file');
  const turns = (await chat.store.load(chat.controller.session.name)).conversation.turns;
  assert.equal(turns.length, 2);
  assert.equal(turns[1]?.meta?.interrupted, true);
  assert.ok(!turns[1]?.text.includes('w99'));
});

test('Enter on a message while a reply streams queues it under the reply; it is sent when the reply ends', async () => {
  const chat = await streaming();
  await chat.send('next question');
  await chat.waitFor('queued: next question');
  // Not in the conversation yet, and the input box is free again.
  assert.equal(chat.controller.session.conversation.turns.filter((t) => t.role === 'user').length, 1);
  assert.ok(!chat.frame().includes('› next question'));
  await waitUntil(
    () => chat.controller.session.conversation.turns.map((t) => t.role).join(','),
    (roles) => roles === 'user,assistant,user,assistant',
    5000,
    'the queued message answered',
  );
  const turns = chat.controller.session.conversation.turns;
  assert.equal(turns[2]?.text, 'next question');
  assert.match(turns[1]?.text ?? '', /w99$/);
  assert.ok(!chat.frame().includes('queued:'));
});
