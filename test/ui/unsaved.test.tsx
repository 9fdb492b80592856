// A session whose save failed is never dropped: the status bar says so, and /new, /load,
// /exit and Ctrl+D ask first (retry / save as / discard).
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { cleanup } from 'ink-testing-library';
import { KEYS, startChat, type Chat } from '../helpers/uiFakes.js';
import { waitUntil } from '../helpers/waitFor.js';

afterEach(() => cleanup());

/** A chat whose sessions folder is a plain file, so every save fails, after one exchange. */
async function unsavable(): Promise<Chat> {
  const chat = await startChat({ engine: { fallback: { tokens: [' noted'] } } });
  await chat.waitFor('Model gpt2 ready');
  await writeFile(chat.dirs.sessions, 'not a folder');
  await chat.send('keep this');
  await chat.waitFor('noted');
  await chat.waitFor('not saved');
  return chat;
}

/** The status bar: the lines under the input box. */
const statusLine = (chat: Chat): string => chat.frame().split('╯').at(-1) ?? '';

/** A chat whose session was saved once and then by another Parley: its next saves conflict. */
async function conflicted(): Promise<Chat> {
  const chat = await startChat({ engine: { fallback: { tokens: [' noted'] } } });
  await chat.waitFor('Model gpt2 ready');
  await chat.send('first');
  await chat.waitFor('noted');
  const name = chat.controller.session.name;
  await waitUntil(() => existsSync(chat.store.pathOf(name)), Boolean);
  await chat.store.save(await chat.store.load(name));
  await chat.send('second');
  await chat.waitFor('saved by another Parley meanwhile');
  return chat;
}

test('a failed save shows "not saved" in the status bar until a save succeeds', async () => {
  const chat = await unsavable();
  assert.match(statusLine(chat), /not saved/);
  await rm(chat.dirs.sessions);
  await chat.send('/save');
  await chat.waitFor('Saved session');
  await waitUntil(
    () => statusLine(chat),
    (s) => !s.includes('not saved'),
    3000,
    'the status bar without "not saved"',
  );
});

test('/new with an unsaved session asks; Esc keeps it, discard starts the new session', async () => {
  const chat = await conflicted();
  const name = chat.controller.session.name;
  await chat.send('/new fresh');
  await chat.waitFor('not saved: retry (r) / save as (s <name>) / discard (d)?');
  assert.equal(chat.controller.session.name, name, 'the session is still in memory');
  await chat.type(KEYS.escape);
  await chat.waitFor(`Cancelled; session ${name} is still not saved.`);
  assert.equal(chat.controller.session.conversation.turns.length, 4);
  await chat.send('/new fresh');
  await chat.waitFor('discard (d)?');
  await chat.send('d');
  await chat.waitFor('New session fresh.');
  assert.equal(chat.controller.session.name, 'fresh');
});

test('/exit with an unsaved session asks; retry once the disk is fixed saves and leaves with code 0', async () => {
  const chat = await unsavable();
  const name = chat.controller.session.name;
  await chat.send('/exit');
  await chat.waitFor('would lose it');
  await rm(chat.dirs.sessions);
  await chat.send('r');
  await waitUntil(() => existsSync(chat.store.pathOf(name)), Boolean, 3000, 'the session file');
  assert.equal((await chat.store.load(name)).conversation.turns.length, 2);
  await waitUntil(
    () => chat.controller.exitCode,
    (code) => code === 0,
  );
});

test('Ctrl+D after a conflict asks; save as keeps the conversation under another name', async () => {
  const chat = await conflicted();
  await chat.type(KEYS.ctrlD);
  await chat.waitFor('discard (d)?');
  await chat.send('s rescued');
  await waitUntil(() => existsSync(chat.store.pathOf('rescued')), Boolean, 3000, 'the rescued session');
  assert.deepEqual(
    (await chat.store.load('rescued')).conversation.turns.map((t) => t.text),
    ['first', 'noted', 'second', 'noted'],
  );
  await waitUntil(
    () => chat.controller.exitCode,
    (code) => code === 0,
  );
});

test('leaving with a session that could not be saved gives a non-zero exit code', async () => {
  const chat = await unsavable();
  await chat.type(KEYS.ctrlD);
  await chat.waitFor('discard (d)?');
  await chat.send('d');
  await chat.waitFor('discarded');
  assert.equal(chat.controller.exitCode, 1);
  assert.equal(await chat.controller.shutdown(), 1);
});
