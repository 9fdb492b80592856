import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { chmod, lstat, mkdir, mkdtemp, readdir, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { historyNewer, historyOlder, startHistory, withEntry } from '../../src/ui/history.js';
import { appendHistory, loadHistory, parseHistory } from '../../src/ui/historyFile.js';

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

test('lines the history file cannot read are never dropped: the trim moves such a file aside with a notice', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'parley-history-'));
  const file = path.join(dir, 'history.jsonl');
  const original = Array.from({ length: 2500 }, (_, i) => `plain line ${i}\n`).join('') + '"one"\n"two"\n';
  await writeFile(file, original, { mode: 0o600 });
  const notices: string[] = [];
  assert.deepEqual(await loadHistory(file, (line) => notices.push(line)), ['one', 'two']);
  const kept = (await readdir(dir)).filter((name) => name !== 'history.jsonl');
  assert.equal(kept.length, 1, `the original moved aside: ${kept.join(', ')}`);
  assert.equal(await readFile(path.join(dir, kept[0]!), 'utf8'), original);
  assert.equal(await readFile(file, 'utf8'), '"one"\n"two"\n');
  assert.equal(notices.length, 1);
  assert.match(notices[0]!, /2500 lines/);
  assert.ok(notices[0]!.includes(path.join(dir, kept[0]!)), notices[0]);
  // A short file with such lines is read and left exactly as it is.
  await writeFile(file, 'plain\n"three"\n');
  assert.deepEqual(await loadHistory(file), ['three']);
  assert.equal(await readFile(file, 'utf8'), 'plain\n"three"\n');
});

test('a symlinked history file is trimmed through its target and stays a link', async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'parley-history-'));
  const target = path.join(dir, 'elsewhere', 'my-history.jsonl');
  await mkdir(path.dirname(target));
  await writeFile(target, Array.from({ length: 2500 }, (_, i) => JSON.stringify(`entry ${i}`) + '\n').join(''));
  const file = path.join(dir, 'history.jsonl');
  await symlink(target, file);
  assert.equal((await loadHistory(file)).at(-1), 'entry 2499');
  assert.ok((await lstat(file)).isSymbolicLink());
  assert.equal((await readFile(target, 'utf8')).split('\n').length, 1001);
  await appendHistory(file, 'new');
  assert.ok((await lstat(file)).isSymbolicLink());
  assert.equal((await loadHistory(file)).at(-1), 'new');
  // A link to a file of other lines is left alone, with a notice, when the trim is due.
  const other = path.join(dir, 'elsewhere', 'notes.txt');
  const text = Array.from({ length: 2500 }, (_, i) => `note ${i}\n`).join('');
  await writeFile(other, text);
  const link = path.join(dir, 'linked.jsonl');
  await symlink(other, link);
  const notices: string[] = [];
  assert.deepEqual(await loadHistory(link, (line) => notices.push(line)), []);
  assert.equal(await readFile(other, 'utf8'), text);
  assert.ok((await lstat(link)).isSymbolicLink());
  assert.equal(notices.length, 1);
});

test(
  'a history file that is not a regular file (a FIFO) is neither read nor written, and nothing waits on it',
  { skip: process.platform === 'win32' },
  async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'parley-history-'));
    const file = path.join(dir, 'history.jsonl');
    execFileSync('mkfifo', [file]);
    const notices: string[] = [];
    const within = <T>(p: Promise<T>): Promise<T> =>
      Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error('waited on the FIFO')), 3000).unref())]);
    try {
      assert.deepEqual(await within(loadHistory(file, (line) => notices.push(line))), []);
      await within(appendHistory(file, 'x'));
    } finally {
      // Release a reader or writer stuck on the FIFO, so a failing run still ends.
      for (const flags of [constants.O_WRONLY | constants.O_NONBLOCK, constants.O_RDONLY | constants.O_NONBLOCK]) {
        try {
          closeSync(openSync(file, flags));
        } catch {
          // No one waiting on that side.
        }
      }
    }
    assert.equal(notices.length, 1);
    assert.match(notices[0]!, /not a regular file/);
  },
);
