// What the screen shows: untrusted text made harmless, the context count, narrow terminals.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { cleanup } from 'ink-testing-library';
import { addUser, appendReply } from '../../src/prompt/conversation.js';
import { newSession } from '../../src/session/sessionStore.js';
import { themeFor } from '../../src/ui/theme.js';
import { startChat } from '../helpers/uiFakes.js';
import { waitUntil } from '../helpers/waitFor.js';

afterEach(() => cleanup());

// Anything a terminal would act on: ESC, BEL, C1 controls, carriage return, NUL.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/;

const HOSTILE = [
  ' safe',
  '\u001b]0;pwned title\u0007',
  ' \u001b[2J\u001b[Hcleared?',
  ' \u001b]8;;https://evil.example\u001b\\link\u001b]8;;\u001b\\',
  ' bell\u0007',
  ' c1\u009b31m',
  '\rEVIL',
  ' \u001bP+q544e\u001b\\end',
];

test('escape sequences and control characters in model output never reach the terminal', async () => {
  const chat = await startChat({ engine: { scripts: [{ tokens: HOSTILE, delayMs: 5 }] } });
  await chat.waitFor('Model gpt2 ready');
  await chat.send('be evil');
  const frame = await chat.waitFor(/safe[\s\S]*end/);
  await waitUntil(
    () => chat.controller.getState().live,
    (live) => live === null,
  );
  for (const f of [frame, chat.frame(), ...chat.ui.frames]) assert.doesNotMatch(f, CONTROL);
  assert.match(chat.frame(), /safe cleared\? link bell c1\n\s*EVIL end/);
  assert.doesNotMatch(chat.frame(), /pwned|evil\.example/);
});

test('text loaded from a session file is sanitised too', async () => {
  const chat = await startChat();
  await chat.waitFor('Model gpt2 ready');
  const session = newSession('hostile');
  let conversation = addUser(session.conversation, 'question\u001b[31m red\u001b]0;title\u0007');
  conversation = appendReply(conversation, 'answer\u001b[2J\u0007 done');
  await chat.store.save({ ...session, conversation: { ...conversation, persona: 'persona\u001b]8;;x\u001b\\' } });
  await chat.send('/load hostile');
  await chat.waitFor('answer done');
  await chat.send('/system');
  await chat.waitFor('Persona: persona');
  assert.match(chat.frame(), /question red/);
  for (const f of chat.ui.frames) assert.doesNotMatch(f, CONTROL);
});

test('the token count follows the input as it is typed', async () => {
  const chat = await startChat();
  await chat.waitFor('Model gpt2 ready');
  const count = (): number => Number(/(\d+)\/1024 tokens/.exec(chat.frame())?.[1] ?? NaN);
  await waitUntil(count, Number.isFinite);
  const before = count();
  await chat.type('x'.repeat(80));
  await waitUntil(count, (n) => n >= before + 20, 3000, 'the count to grow');
});

test('the status bar says how many earlier turns are out of context', async () => {
  const chat = await startChat({
    engine: { contextLength: 200, fallback: { tokens: [' ' + 'y'.repeat(60)] } },
    flags: { model: 'gpt2', maxNewTokens: 40 },
  });
  await chat.waitFor('Model gpt2 ready');
  for (let i = 0; i < 4; i++) {
    await chat.send(`message ${i} ${'x'.repeat(120)}`);
    await waitUntil(
      () => chat.controller.session.conversation.turns.length,
      (n) => n === 2 * (i + 1),
    );
  }
  await chat.waitFor(/\d+ earlier turns? out of context/);
  await chat.send('/context');
  await chat.waitFor(/Turns: \d+ in context, [1-9]\d* out of context\./);
});

test('a terminal narrower than 40 columns still works', async () => {
  const chat = await startChat({ engine: { fallback: { tokens: [' a', ' narrow', ' reply'] } } });
  await chat.waitFor('Model gpt2 ready');
  chat.resize(30);
  await chat.send('hi');
  await chat.waitFor('a narrow reply');
  await chat.send('/temp 0.4');
  await chat.waitFor('temp 0.4');
  const lines = chat.frame().split('\n');
  // Ink wraps to the width: the box and the status bar fit in 30 columns.
  const tail = lines.slice(-8);
  for (const line of tail) assert.ok(line.length <= 30, `fits: ${JSON.stringify(line)}`);
});

test('NO_COLOR switches colours off', () => {
  assert.equal(themeFor({ NO_COLOR: '1' }).accent, undefined);
  assert.equal(themeFor({ NO_COLOR: '1' }).error, undefined);
  assert.equal(themeFor({}).accent, 'cyan');
  assert.equal(themeFor({ NO_COLOR: '' }).accent, 'cyan');
});
