import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { historyNewer, historyOlder, startHistory, withEntry } from '../src/ui/history.js';
import { appendHistory, loadHistory, parseHistory } from '../src/ui/historyFile.js';

test('up walks to older entries and down comes back to the draft', () => {
  let cursor = startHistory(['first', 'second']);
  const up1 = historyOlder(cursor, 'draft');
  assert.equal(up1?.text, 'second');
  cursor = up1!.cursor;
  const up2 = historyOlder(cursor, 'second');
  assert.equal(up2?.text, 'first');
  cursor = up2!.cursor;
  assert.equal(historyOlder(cursor, 'first'), null);
  const down1 = historyNewer(cursor);
  assert.equal(down1?.text, 'second');
  const down2 = historyNewer(down1!.cursor);
  assert.equal(down2?.text, 'draft');
  assert.equal(down2?.cursor.index, null);
  assert.equal(historyNewer(down2!.cursor), null);
});

test('empty history and recording rules', () => {
  assert.equal(historyOlder(startHistory([]), ''), null);
  assert.deepEqual(withEntry(['a'], 'a'), ['a']);
  assert.deepEqual(withEntry(['a'], '  '), ['a']);
  assert.deepEqual(withEntry(['a'], 'b\nc'), ['a', 'b\nc']);
});

test('the history file keeps multi-line entries and skips a torn line', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'parley-history-'));
  const file = path.join(dir, 'sub', 'history.jsonl');
  assert.deepEqual(await loadHistory(file), []);
  await appendHistory(file, 'one');
  await appendHistory(file, 'two\nlines');
  assert.deepEqual(await loadHistory(file), ['one', 'two\nlines']);
  await writeFile(file, (await readFile(file, 'utf8')) + '"torn');
  assert.deepEqual(await loadHistory(file), ['one', 'two\nlines']);
  assert.deepEqual(parseHistory('42\n"x"\n'), ['x']);
});

test('the history file is private like sessions: 0600 in a 0700 folder, an older 0644 file tightened', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'parley-history-'));
  const file = path.join(dir, 'data', 'history.jsonl');
  await appendHistory(file, 'a secret');
  assert.equal((await stat(path.dirname(file))).mode & 0o777, 0o700);
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  await chmod(file, 0o644);
  assert.deepEqual(await loadHistory(file), ['a secret']);
  assert.equal((await stat(file)).mode & 0o777, 0o600);
  // The rewrite that keeps the file short keeps it private too.
  await writeFile(file, Array.from({ length: 2500 }, (_, i) => JSON.stringify(`entry ${i}`) + '\n').join(''), { mode: 0o644 });
  await chmod(file, 0o644);
  assert.equal((await loadHistory(file)).at(-1), 'entry 2499');
  assert.equal((await stat(file)).mode & 0o777, 0o600);
});
