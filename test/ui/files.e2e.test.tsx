// Files in messages with the real worker engine on the Qwen2 fixture (256 tokens of context):
// @path and /file put the file in under its name; refusals are one line and give the text
// back; a file too long for the window is sent in part or summarised by the model in parts
// (real generations, counted), and Esc cancels a summary under way.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cleanup } from 'ink-testing-library';
import { createEngine, type WorkerEngineClient } from '../../src/engine/worker/workerEngineClient.js';
import { HF_QWEN2_TINY } from '../helpers/fixtures.js';
import { KEYS, makeDirs, startChat, type ChatDirs } from '../helpers/uiFakes.js';
import { waitUntil } from '../helpers/waitFor.js';

let engine: WorkerEngineClient;
let dirs: ChatDirs;
let project: string;
const startDir = process.cwd();
let generations = 0;

const lines = (n: number): string =>
  Array.from({ length: n }, (_, i) => `Line ${i + 1}: the fox jumps over the lazy dog.`).join('\n') + '\n';

before(async () => {
  dirs = await makeDirs();
  engine = createEngine({ cacheDir: path.join(dirs.root, 'cache') });
  const generate = engine.generate.bind(engine);
  engine.generate = (...args: Parameters<WorkerEngineClient['generate']>) => {
    generations++;
    return generate(...args);
  };
  project = await mkdtemp(path.join(tmpdir(), 'parley-files-e2e-'));
  await mkdir(path.join(project, 'work'));
  await writeFile(path.join(project, 'work', 'small.txt'), 'alpha beta\n');
  await writeFile(path.join(project, 'work', 'escapes.txt'), 'plain \u001b]0;owned\u0007title \u001b[31mred\u001b[0m\n');
  await writeFile(path.join(project, 'work', 'data.bin'), Buffer.from([1, 2, 0, 3]));
  await writeFile(path.join(project, 'work', 'long.txt'), lines(120));
  await writeFile(path.join(project, 'work', 'huge.txt'), lines(6000));
  await writeFile(path.join(project, 'outside.txt'), 'from outside\n');
  // Paths in messages are relative to the folder Parley runs in.
  process.chdir(path.join(project, 'work'));
});

after(async () => {
  process.chdir(startDir);
  cleanup();
  await engine.dispose();
  await rm(dirs.root, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
  await rm(project, { recursive: true, force: true });
});

const flags = { model: HF_QWEN2_TINY, maxNewTokens: 12, temperature: 0, repetitionPenalty: 1 };
type Chat = Awaited<ReturnType<typeof startChat>>;
const turns = (chat: Chat) => chat.controller.session.conversation.turns;
const replies = async (chat: Chat, n: number): Promise<void> => {
  try {
    await waitUntil(
      () => turns(chat).length,
      (len) => len === n,
      60_000,
      `${n} turns`,
    );
  } catch (error) {
    throw new Error(`${(error as Error).message}\nscreen:\n${chat.frame()}`, { cause: error });
  }
};

test('@path and /file: the file goes in under its name; escapes stripped; binary, missing and outside files refused in one line', async () => {
  const chat = await startChat({ engineClient: engine, dirs, flags, args: { offline: true, session: 'files' } });
  await chat.waitFor(/\d+\/256 tokens/, 30_000);

  await chat.send('What is in @small.txt?');
  await replies(chat, 2);
  assert.equal(turns(chat)[0]!.text, 'File small.txt:\n```\nalpha beta\n```\n\nWhat is in small.txt?');

  await chat.send('/file escapes.txt');
  await replies(chat, 4);
  const stored = turns(chat)[2]!.text;
  assert.ok(stored.startsWith('File escapes.txt:\n```\nplain title red\n```'), JSON.stringify(stored));
  assert.ok(!stored.includes('\u001b') && !chat.frame().includes('\u001b]0;'), 'no escape sequence from the file');

  await chat.send('Look at @data.bin please');
  await chat.waitFor('data.bin: a binary file (it has NUL bytes); only text files go into a message');
  await chat.waitFor('Look at @data.bin please', 3000);
  await chat.type(KEYS.ctrlU);
  await chat.send('Look at @missing.txt');
  await chat.waitFor('missing.txt: no such file');
  await chat.type(KEYS.ctrlU);

  await chat.send('/file ../outside.txt');
  await chat.waitFor(/outside\.txt is outside the current folder/);
  await chat.send('n');
  await chat.waitFor('Not sent: ../outside.txt stays out; your message is back in the input box.');
  await chat.type(KEYS.ctrlU);
  await chat.send('/file ../outside.txt');
  await chat.waitFor(/outside\.txt is outside the current folder/);
  await chat.send('y');
  await replies(chat, 6);
  assert.ok(turns(chat)[4]!.text.includes('from outside'), turns(chat)[4]!.text);
  assert.equal(turns(chat).length, 6, 'refused files sent nothing');
  await chat.send('/exit');
});

test('a file too long for the window: its first part that fits, or the model summarises it in parts; Esc cancels', async () => {
  const chat = await startChat({ engineClient: engine, dirs, flags, args: { offline: true, session: 'long' } });
  await chat.waitFor(/\d+\/256 tokens/, 30_000);

  await chat.send('Sum up @long.txt');
  await chat.waitFor(/long\.txt is \d+ tokens; the window has room for \d+ beside a 12-token reply/);
  await chat.send('f');
  await replies(chat, 2);
  const first = turns(chat)[0]!.text;
  assert.match(first, /^File long\.txt \(its first \d+ of 120 lines\):\n```\nLine 1: /);
  assert.ok(first.endsWith('\n```\n\nSum up long.txt'), first.slice(-80));
  await chat.send('/context');
  await chat.waitFor('Window:');
  assert.ok(!chat.frame().includes('Your message is too long for the window'), 'the first part fits');

  const before = generations;
  await chat.send('/file long.txt Sum up');
  await chat.waitFor(/long\.txt is \d+ tokens/);
  await chat.send('s');
  await replies(chat, 4);
  const summarised = turns(chat)[2]!.text;
  assert.match(summarised, /^File long\.txt \(a summary the model made of it, in parts\):\n```\n/);
  assert.ok(summarised.endsWith('\n```\n\nSum up'), summarised);
  // Two parts at least, a summary of their summaries, and the reply: each a generation of the engine.
  assert.ok(generations - before >= 4, `${generations - before} generations`);
  await chat.waitFor('Summarised long.txt with the model; the summary goes into your message.');

  await chat.send('/file huge.txt Sum up');
  await chat.waitFor(/huge\.txt is \d+ tokens/, 60_000);
  await chat.send('s');
  await chat.waitFor(/Summarising huge\.txt: part 2\/\d+, step 2\/\d+/, 60_000);
  await chat.type(KEYS.escape);
  await chat.waitFor('Not sent (the summary of huge.txt was cancelled): your message is back in the input box.', 30_000);
  assert.equal(turns(chat).length, 4, 'nothing sent');
  await chat.send('/exit');
});
