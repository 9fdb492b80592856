// Files in messages, part by part: where a message names files, how a file goes in, which
// files are refused, how a long one is cut, and Tab completion of paths.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileBlock, messageWithFiles } from '../../../src/chat/files/fileBlock.js';
import { chunksThatFit, cutPoint, firstPartThatFits } from '../../../src/chat/files/fileChunks.js';
import { findMentions, parseFileArgs, withMentionsNamed } from '../../../src/chat/files/fileMentions.js';
import { MAX_FILE_BYTES, readTextFile, textProblem } from '../../../src/chat/files/textFile.js';
import { completeInput } from '../../../src/ui/completion.js';
import { completePath, type ListDir } from '../../../src/ui/pathCompletion.js';

let root: string;
let cwd: string;

before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'parley-files-'));
  cwd = path.join(root, 'project');
  await mkdir(path.join(cwd, 'docs'), { recursive: true });
  await writeFile(path.join(cwd, 'notes.txt'), '\uFEFFhello\nworld\n');
  await writeFile(path.join(cwd, 'binary.bin'), Buffer.from([0x41, 0x00, 0x42]));
  await writeFile(path.join(cwd, 'latin1.txt'), Buffer.from([0x63, 0x61, 0x66, 0xe9]));
  await writeFile(path.join(cwd, 'big.txt'), 'x'.repeat(MAX_FILE_BYTES + 1));
  await writeFile(path.join(root, 'secret.txt'), 'outside');
  await symlink(path.join(root, 'secret.txt'), path.join(cwd, 'link.txt'));
});

after(() => rm(root, { recursive: true, force: true }));

test('mentions: @path at the start or after a space, quoted paths, trailing punctuation, not e-mail addresses', () => {
  const text = 'Compare @a.txt, @"my file.md" and @docs/b.ts. Mail me at me@example.com';
  const mentions = findMentions(text);
  assert.deepEqual(
    mentions.map((m) => m.path),
    ['a.txt', 'my file.md', 'docs/b.ts'],
  );
  assert.equal(
    withMentionsNamed(text, mentions, ['a.txt', 'my file.md', 'docs/b.ts']),
    'Compare a.txt, my file.md and docs/b.ts. Mail me at me@example.com',
  );
  assert.deepEqual(findMentions('@ alone, and @'), []);
});

test('/file arguments: a path (quoted when it has spaces) and an optional question', () => {
  assert.deepEqual(parseFileArgs(' notes.txt  what is it about? '), { path: 'notes.txt', question: 'what is it about?' });
  assert.deepEqual(parseFileArgs('"my notes.txt" sum up'), { path: 'my notes.txt', question: 'sum up' });
  assert.deepEqual(parseFileArgs('notes.txt'), { path: 'notes.txt', question: '' });
  assert.equal(parseFileArgs('  '), null);
});

test('a file goes in as a block headed by its name, fenced longer than any backtick run in it', () => {
  assert.equal(fileBlock({ name: 'a.txt', text: 'one\ntwo\n' }), 'File a.txt:\n```\none\ntwo\n```');
  const block = fileBlock({ name: 'b.md', text: 'see:\n````js\nx\n````' });
  assert.ok(block.startsWith('File b.md:\n`````\n'), block);
  assert.ok(block.endsWith('\n`````'), block);
  assert.equal(messageWithFiles([{ name: 'a.txt', text: 'hi' }], 'What is a.txt?'), 'File a.txt:\n```\nhi\n```\n\nWhat is a.txt?');
  assert.equal(messageWithFiles([{ name: 'a.txt', text: 'hi' }], '  '), 'File a.txt:\n```\nhi\n```');
});

test('binary and non-UTF-8 bytes are not text', () => {
  assert.equal(textProblem(Buffer.from('plain ✓ text')), null);
  assert.match(textProblem(Buffer.from([1, 0, 2])) ?? '', /NUL/);
  assert.match(textProblem(Buffer.from([0xff, 0xfe, 0x41])) ?? '', /UTF-8/);
});

test('readTextFile: text read with its relative name; missing, binary, non-UTF-8, oversized, folders refused; outside needs a yes', async () => {
  const home = path.join(root, 'home');
  const ok = await readTextFile('notes.txt', cwd, home, false);
  assert.deepEqual(ok, { kind: 'text', name: 'notes.txt', absolute: path.join(cwd, 'notes.txt'), text: 'hello\nworld\n' });
  const refused = async (typed: string): Promise<string> => {
    const read = await readTextFile(typed, cwd, home, false);
    assert.equal(read.kind, 'refused', typed);
    return read.kind === 'refused' ? read.error : '';
  };
  assert.equal(await refused('nope.txt'), 'nope.txt: no such file');
  assert.match(await refused('binary.bin'), /^binary\.bin: a binary file .*only text files/);
  assert.match(await refused('latin1.txt'), /^latin1\.txt: not UTF-8 text/);
  assert.match(await refused('big.txt'), new RegExp(`^big\\.txt: ${MAX_FILE_BYTES + 1} bytes, over the ${MAX_FILE_BYTES}-byte limit`));
  assert.match(await refused('docs'), /a folder/);
  for (const typed of ['../secret.txt', 'link.txt', path.join(root, 'secret.txt')]) {
    const outside = await readTextFile(typed, cwd, home, false);
    assert.equal(outside.kind, 'outside', typed);
    const allowed = await readTextFile(typed, cwd, home, true);
    assert.equal(allowed.kind === 'text' && allowed.text, 'outside', typed);
  }
  for (const error of [await refused('nope.txt'), await refused('binary.bin')]) assert.ok(!error.includes('\n'), 'one line');
});

/** A stand-in tokenizer: one token per 4 characters, started or not. */
const byFours = async (texts: string[]): Promise<number[]> => texts.map((t) => Math.ceil(t.length / 4));

test('the first part that fits: the longest start under the budget, cut at a line end when one is near', async () => {
  const text = Array.from({ length: 100 }, (_, i) => `line ${String(i).padStart(3, '0')} of the file`).join('\n');
  const total = (await byFours([text]))[0]!;
  const part = await firstPartThatFits(text, 100, total, byFours);
  assert.ok(text.startsWith(part));
  assert.ok((await byFours([part]))[0]! <= 100);
  assert.ok(part.length > 300, `nearly all the budget is used (${part.length} characters)`);
  assert.ok(part.endsWith('\n'), 'cut at a line end');
  assert.equal(cutPoint('abc\ndefghij', 9), 9, 'a line end before the last fifth is not near');
  assert.equal(cutPoint('abcdefg\nhij', 9), 8);
  assert.equal(await firstPartThatFits(text, 0, total, byFours), '');
});

test('chunks that fit: consecutive, each under the budget as wrapped, together the whole text', async () => {
  const text = 'word '.repeat(2000);
  const wrap = (part: string): string => `Summarise:\n${part}`;
  const total = (await byFours([wrap(text)]))[0]!;
  const chunks = await chunksThatFit(text, 300, total, byFours, wrap);
  assert.equal(chunks.join(''), text);
  assert.ok(chunks.length >= 9 && chunks.length <= 12, `${chunks.length} chunks`);
  for (const chunk of chunks) assert.ok((await byFours([wrap(chunk)]))[0]! <= 300);
});

test('Tab completes paths after @ and after /file, folders with a slash, hidden files only when asked', () => {
  const tree: Record<string, { name: string; folder: boolean }[]> = {
    '.': [
      { name: 'notes.txt', folder: false },
      { name: 'novel.md', folder: false },
      { name: 'docs', folder: true },
      { name: '.env', folder: false },
    ],
    'docs/': [{ name: 'guide.md', folder: false }],
  };
  const list: ListDir = (dir) => tree[dir] ?? [];
  assert.deepEqual(completePath('no', list), { text: 'no', candidates: ['notes.txt', 'novel.md'] });
  assert.deepEqual(completePath('not', list), { text: 'notes.txt ', candidates: [] });
  assert.deepEqual(completePath('d', list), { text: 'docs/', candidates: [] });
  assert.deepEqual(completePath('docs/g', list), { text: 'docs/guide.md ', candidates: [] });
  assert.deepEqual(completePath('', list)?.candidates, ['docs/', 'notes.txt', 'novel.md']);
  assert.deepEqual(completePath('.e', list), { text: '.env ', candidates: [] });
  const sources = { model: [], session: [], persona: [], command: [] };
  const table = [{ name: 'file', aliases: [], completes: 'path' as const }];
  assert.equal(completeInput('Read @docs/g', table, sources, list)?.text, 'Read @docs/guide.md ');
  assert.equal(completeInput('/file not', table, sources, list)?.text, '/file notes.txt ');
  assert.equal(completeInput('me@do', table, sources, list), null, 'an address is no mention');
});
