// Pure helpers around model loading and session choice.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EngineError } from '../../src/engine/engineClient.js';
import { newSession, SessionStore } from '../../src/session/sessionStore.js';
import { addUser } from '../../src/prompt/conversation.js';
import { chooseSession } from '../../src/chat/chooseSession.js';
import { loadFailureLines } from '../../src/chat/loadFailure.js';
import { startLoading, withProgress } from '../../src/chat/view/loadingProgress.js';
import { modelLabel } from '../../src/chat/modelLabel.js';
import { settleLines, wrapReply } from '../../src/chat/view/replyLines.js';
import { errorLine } from '../../src/errors.js';

test('download progress is tracked per file, then the file being loaded', () => {
  let state = startLoading('gpt2');
  state = withProgress(state, { kind: 'download', file: 'config.json', loaded: 10, total: 10 });
  state = withProgress(state, { kind: 'download', file: 'onnx/model.onnx', loaded: 5, total: 100 });
  state = withProgress(state, { kind: 'download', file: 'onnx/model.onnx', loaded: 50, total: 100 });
  state = withProgress(state, { kind: 'loading', file: 'onnx/model.onnx' });
  assert.deepEqual(state, {
    modelRef: 'gpt2',
    downloads: [
      { file: 'config.json', loaded: 10, total: 10 },
      { file: 'onnx/model.onnx', loaded: 50, total: 100 },
    ],
    loadingFile: 'onnx/model.onnx',
  });
  assert.equal(withProgress(state, { kind: 'loading' }).loadingFile, 'onnx/model.onnx');
});

test('load failures: unreachable hub, other errors, with and without a model in use', () => {
  const network = new EngineError('network', 'download of config.json of gpt2 failed: fetch failed');
  assert.deepEqual(loadFailureLines('gpt2', network, null, false), [
    'Cannot load gpt2: download of config.json of gpt2 failed: fetch failed (the model is not in the cache).',
    'To chat, point Parley at a local GPT-2 model folder: /model ./path (or start it with parley --model ./path).',
    'To try the interface without a download: /model demo (or parley --model demo), a 3M-parameter model shipped with Parley, trained on the King James Bible.',
  ]);
  assert.deepEqual(loadFailureLines('./m', new Error('no config.json in ./m\n    at load (x.js:1:1)'), 'gpt2', false), [
    'Cannot load ./m: no config.json in ./m',
    'Still using gpt2.',
  ]);
  assert.equal(
    loadFailureLines('gpt2', network, null, true)[0],
    'Cannot load gpt2: it is not in the model cache, and --offline forbids downloading it.',
  );
  assert.equal(errorLine('plain'), 'plain');
  assert.equal(errorLine(new Error('')), 'unknown error');
});

test('model labels', () => {
  assert.equal(modelLabel('gpt2'), 'gpt2');
  assert.equal(modelLabel('Xenova/gpt2'), 'Xenova/gpt2');
  assert.equal(modelLabel('./models/tiny/'), 'tiny');
  assert.equal(modelLabel('/abs/path/model'), 'model');
});

test('a streaming reply settles every screen line but the one being written', () => {
  const text = 'The quick brown fox jumps over the lazy dog.\n\nA second paragraph that goes on';
  const { lines, rest } = settleLines(text, 20);
  assert.deepEqual(lines, ['The quick brown fox ', 'jumps over the lazy ', 'dog.', '', 'A second paragraph ']);
  assert.equal(rest, 'that goes on');
  assert.ok(lines.every((line) => line.length <= 20));
  // Nothing is lost: the settled lines and the rest make up the text again.
  assert.equal(`${lines.slice(0, 2).join('')}${lines[2]}\n${lines[3]}\n${lines[4]}${rest}`, text);
  // A word longer than the width is cut hard; its tail stays live.
  assert.deepEqual(settleLines('x'.repeat(25), 10), { lines: ['x'.repeat(10), 'x'.repeat(10)], rest: 'x'.repeat(5), continues: true });
  assert.deepEqual(settleLines('ends with a newline\n', 40), { lines: ['ends with a newline'], rest: '', continues: false });
  assert.deepEqual(settleLines('', 40), { lines: [], rest: '', continues: false });
});

test('settling as text streams in shows the same lines as settling it at once', () => {
  // Token by token (the live area settles after every frame) against all at once.
  const text =
    'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor.\nUt enim ad minim veniam, quis nostrud exercitation ullamco laboris nisi ut aliquip.';
  const shown: string[] = [];
  let live = '';
  let continues = false;
  for (let i = 0; i < text.length; i += 3) {
    const settled = settleLines(live + text.slice(i, i + 3), 17, continues);
    shown.push(...settled.lines);
    live = settled.rest;
    continues = settled.continues;
  }
  const once = settleLines(text, 17);
  assert.deepEqual([...shown, live], [...once.lines, once.rest]);
});

test('which session a chat starts with', async () => {
  const store = new SessionStore(path.join(await mkdtemp(path.join(tmpdir(), 'parley-choose-')), 'sessions'));
  const now = new Date(2025, 0, 31, 14, 5);
  const none = await chooseSession(store, { resume: true, defaultPersona: 'qa' }, now);
  assert.deepEqual(none.greeting, ['There is no saved session to resume yet; this is a new one.']);
  assert.equal(none.session.name, 'chat-2025-01-31-1405');
  assert.match(none.session.conversation.persona ?? '', /answers questions/);

  const older = newSession('older');
  await store.save({ ...older, conversation: addUser(older.conversation, 'hi') }, new Date(2025, 0, 1));
  await store.save(newSession('newer'), new Date(2025, 0, 2));
  assert.equal((await chooseSession(store, { resume: true, defaultPersona: null }, now)).session.name, 'newer');
  const named = await chooseSession(store, { session: 'older', resume: false, system: 'Be brief.', defaultPersona: 'qa' }, now);
  assert.equal(named.session.conversation.turns.length, 1);
  assert.equal(named.session.conversation.persona, 'Be brief.');
  assert.equal((await chooseSession(store, { session: 'fresh', resume: false, defaultPersona: null }, now)).session.revision, 0);
  await assert.rejects(chooseSession(store, { session: '../x', resume: false, defaultPersona: null }, now), /cannot contain/);
  await store.save(newSession('chat-2025-01-31-1405'));
  assert.equal((await chooseSession(store, { resume: false, defaultPersona: null }, now)).session.name, 'chat-2025-01-31-1405-2');
});

test('a row a reply wraps onto starts at the indent: the space it broke at is not carried over', () => {
  // "mother's" fills the row exactly: wrap-ansi carries the space to the next row.
  const { lines, rest } = settleLines('that his mother’s sake, that hath', 17);
  assert.deepEqual(lines, ['that his mother’s']);
  assert.equal(rest, 'sake, that hath');
  assert.deepEqual(settleLines('abcd efgh ij', 4).lines, ['abcd', 'efgh']);
  // A line's own indentation (code) stays.
  assert.deepEqual(settleLines('    indented code\nnext', 40).lines, ['    indented code']);
  assert.equal(wrapReply('abcd efgh\n  x', 4), 'abcd\nefgh\n  x');
  // Streaming token by token settles the same rows as settling at once.
  const text = 'aaaa bbbb cccc  dddd eeee ffff gggg';
  let live = '';
  let continues = false;
  const shown: string[] = [];
  for (const ch of text) {
    const settled = settleLines(live + ch, 4, continues);
    shown.push(...settled.lines);
    live = settled.rest;
    continues = settled.continues;
  }
  const once = settleLines(text, 4);
  assert.deepEqual([...shown, live], [...once.lines, once.rest]);
  assert.ok(shown.every((row) => !row.startsWith(' ')));
});
