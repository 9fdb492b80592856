import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, constants, openSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { addUser, appendReply, setPersona } from '../../src/prompt/conversation.js';
import { sessionToMarkdown } from '../../src/session/exportMarkdown.js';
import { parseSession, serializeSession } from '../../src/session/sessionSchema.js';
import { newSession, saveSession, SessionError, SessionStore } from '../../src/session/sessionStore.js';
import type { ReplyMeta } from '../../src/prompt/conversationTypes.js';
import type { Session } from '../../src/session/types.js';
import { REPO_ROOT } from '../helpers/fixtures.js';

const root = await mkdtemp(join(tmpdir(), 'parley-sessions-'));
after(() => rm(root, { recursive: true, force: true }));
let dirs = 0;
async function freshStore(): Promise<SessionStore> {
  const dir = join(root, `s${dirs++}`);
  await mkdir(dir);
  return new SessionStore(dir);
}

const EXAMPLE = join(REPO_ROOT, 'sessions', 'example.json');

const meta: ReplyMeta = {
  model: 'Xenova/gpt2',
  dtype: 'q8',
  params: { temperature: 0.8, topK: 50, topP: 0.95, repetitionPenalty: 1.1, maxNewTokens: 128, seed: 42 },
  promptTokens: 12,
  generatedTokens: 7,
  tokensPerSecond: 31.5,
  ttftMs: 90,
  reason: 'stop',
  interrupted: false,
};

function sampleSession(name: string): Session {
  const s = newSession(name, { persona: 'Réponds en français. 🇫🇷', model: 'gpt2', dtype: 'q8', params: { temperature: 0.5, seed: null } });
  let c = addUser(s.conversation, 'Grüße! 日本語 👨‍👩‍👧‍👦 \u202eRTL\u202c "quotes" \\ back\nslash \u0000 nul');
  c = appendReply(c, 'Bonjour ! 😀\n\n```\ncode\n```', meta);
  c = addUser(c, '');
  return { ...s, conversation: c, windowStart: c.turns[0]!.id };
}

const isCode = (code: string) => (e: unknown) => e instanceof SessionError && e.code === code;

test('save → load round trip keeps everything, unicode included; revision and updatedAt move on', async () => {
  const store = await freshStore();
  const original = sampleSession('Ünïcødé 名前 😀');
  const saved = await store.save(original, new Date('2030-01-01T00:00:00Z'));
  assert.equal(saved.revision, 1);
  assert.equal(saved.updatedAt, '2030-01-01T00:00:00.000Z');
  assert.equal(original.revision, 0, 'input not mutated');
  const loaded = await store.load('Ünïcødé 名前 😀');
  assert.deepEqual(loaded, saved);
  const again = await store.save(loaded);
  assert.equal(again.revision, 2);
  assert.deepEqual((await store.load(loaded.name)).conversation, original.conversation);
});

test('the example in sessions/ is a valid version-1 session (old files keep loading)', async () => {
  const store = await freshStore();
  const text = await readFile(EXAMPLE, 'utf8');
  await writeFile(join(store.dir, 'example.json'), text);
  const session = await store.load('example');
  assert.equal(session.revision, 2);
  assert.equal(session.conversation.turns.length, 4);
  assert.equal(session.conversation.turns[3]?.meta?.interrupted, true);
  assert.equal(session.params.temperature, 0.7);
  // What we write reads back the same.
  assert.deepEqual(parseSession(serializeSession(session), 'example'), { ok: true, session });
});

test('a corrupt file: clear error naming it, listed as an error, and left byte-for-byte untouched', async () => {
  const store = await freshStore();
  await store.save(sampleSession('good'));
  const file = join(store.dir, 'broken.json');
  const bytes = Buffer.from('{"format": "parley-session", "version": 1, "turns": [ {"id": tru');
  await writeFile(file, bytes);

  await assert.rejects(
    store.load('broken'),
    (e: unknown) => isCode('invalid')(e) && (e as Error).message.includes(file) && !(e as Error).message.includes('\n'),
  );
  const overwrite = { ...sampleSession('broken'), revision: 0 };
  await assert.rejects(store.save(overwrite), (e: unknown) => isCode('invalid')(e) && /not overwritten/.test((e as Error).message));
  const result = await saveSession(store, overwrite);
  assert.ok(!result.ok && result.error.code === 'invalid');
  await assert.rejects(store.delete('broken'), isCode('invalid'));
  await assert.rejects(store.rename('good', 'broken'), isCode('exists'));
  assert.deepEqual(await readFile(file), bytes, 'byte-identical');

  const list = await store.list();
  assert.deepEqual(
    list.map((e) => [e.name, e.ok]),
    [
      ['good', true],
      ['broken', false],
    ],
  );
  const bad = list[1]!;
  assert.ok(!bad.ok && bad.error.includes(file));
  // Only on explicit force.
  await store.delete('broken', { force: true });
  assert.deepEqual(
    (await store.list()).map((e) => e.name),
    ['good'],
  );
});

test('invalid content, bad UTF-8 and a future version are each reported and left intact', async () => {
  const store = await freshStore();
  const good = serializeSession({ ...sampleSession('x'), revision: 1 });
  const cases: [string, Buffer, string, RegExp][] = [
    [
      'wrong-role',
      Buffer.from(good.replace('"role": "user"', '"role": "robot"')),
      'invalid',
      /turns\[0\]\.role must be one of system, user, assistant/,
    ],
    [
      'bad-temp',
      Buffer.from(good.replace('"temperature": 0.5', '"temperature": 7')),
      'invalid',
      /params\.temperature must be a number from 0 to 2/,
    ],
    ['not-session', Buffer.from('{"hello": 1}'), 'invalid', /not a Parley session/],
    [
      'not-utf8',
      Buffer.concat([Buffer.from(good.slice(0, 50)), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from(good.slice(50))]),
      'invalid',
      /not UTF-8/,
    ],
    [
      'future',
      Buffer.from(good.replace('"version": 1', '"version": 2')),
      'future-version',
      /newer Parley \(session format version 2; this Parley reads up to 1\)/,
    ],
    ['dup-ids', Buffer.from(good.replace(/"id": "[^"]+"/g, '"id": "same"')), 'invalid', /used twice/],
  ];
  for (const [name, bytes, code, message] of cases) {
    const file = join(store.dir, `${name}.json`);
    await writeFile(file, bytes);
    await assert.rejects(
      store.load(name),
      (e: unknown) => isCode(code)(e) && message.test((e as Error).message) && (e as Error).message.includes(file),
      name,
    );
    await assert.rejects(store.save({ ...sampleSession(name), revision: 1 }), isCode(code), name);
    assert.deepEqual(await readFile(file), bytes, `${name} untouched`);
  }
  assert.equal((await store.list()).filter((e) => !e.ok).length, cases.length);
});

test('a BOM from a Windows editor is accepted', async () => {
  const store = await freshStore();
  await writeFile(join(store.dir, 'bom.json'), '\ufeff' + serializeSession({ ...sampleSession('bom'), revision: 1 }));
  assert.equal((await store.load('bom')).revision, 1);
});

test('two writers: a save based on a stale revision is refused with the file named; no turn is lost', async () => {
  const store = await freshStore();
  const base = await store.save(sampleSession('shared'));
  const a = await store.load('shared');
  const b = await store.load('shared');
  const aSaved = await store.save({ ...a, conversation: appendReply(a.conversation, 'from A') });
  const file = store.pathOf('shared');
  await assert.rejects(
    store.save({ ...b, conversation: appendReply(b.conversation, 'from B') }),
    (e: unknown) => isCode('conflict')(e) && (e as Error).message.includes(file) && /revision 2 on disk, 1 here/.test((e as Error).message),
  );
  const onDisk = await store.load('shared');
  assert.deepEqual(onDisk, aSaved);
  assert.equal(base.revision, 1);
  // Saving under another name keeps B's conversation.
  await store.save({ ...b, name: 'shared-b', revision: 0, conversation: appendReply(b.conversation, 'from B') });
  assert.equal((await store.load('shared-b')).conversation.turns.at(-1)?.text, 'from B');
});

test('a lock left by a killed process is taken over (live holders: sessionLock.e2e.test.ts)', async () => {
  const store = await freshStore();
  const lock = join(store.dir, '.locked.json.lock');
  // A pid that does not run: the highest pid Linux can hand out is below 2^22.
  await writeFile(lock, String(2 ** 22 + 123));
  assert.equal((await store.save(sampleSession('locked'))).revision, 1);
  assert.deepEqual((await readdir(store.dir)).sort(), ['locked.json'], 'no temp or lock files left');
});

test('session names: no path separators, "..", control characters, empty or overlong names', async () => {
  const store = await freshStore();
  const before = await readdir(root);
  const bad = [
    '',
    '../x',
    'a/b',
    'a\\b',
    '..',
    '.',
    '.hidden',
    'x\0y',
    'a\nb',
    'tab\t',
    'x'.repeat(65),
    'con',
    'NUL',
    'a:b',
    'what?',
    ' lead',
    'trail ',
    'dot.',
    'a..b',
    '\u202eevil',
  ];
  for (const name of bad) {
    assert.throws(() => store.pathOf(name), isCode('bad-name'), JSON.stringify(name));
    await assert.rejects(store.save(newSession(name)), isCode('bad-name'), JSON.stringify(name));
    await assert.rejects(store.load(name), isCode('bad-name'));
  }
  for (const name of ['ok', 'my chat 2', 'Ünïcødé 名前 😀', 'x'.repeat(64), 'v1.2', 'a-b_c']) {
    assert.equal(store.pathOf(name), join(store.dir, `${name}.json`));
  }
  assert.deepEqual(await readdir(root), before, 'nothing written next to the sessions directory');
  assert.deepEqual(await readdir(store.dir), []);
});

test('list: newest first, missing directory is empty, non-session files ignored', async () => {
  const store = await freshStore();
  assert.deepEqual(await new SessionStore(join(store.dir, 'nope')).list(), []);
  await store.save(sampleSession('older'), new Date('2024-01-01T00:00:00Z'));
  await store.save(sampleSession('newer'), new Date('2025-01-01T00:00:00Z'));
  await writeFile(join(store.dir, 'notes.txt'), 'hi');
  await writeFile(join(store.dir, '.older.json.123.abcd.tmp'), '{');
  const list = await store.list();
  assert.deepEqual(
    list.map((e) => e.name),
    ['newer', 'older'],
  );
  const first = list[0]!;
  assert.ok(first.ok && first.turns === 3 && first.model === 'gpt2' && first.revision === 1);
});

test('save creates the sessions directory; loadOrCreate gives a new session only when there is none', async () => {
  const store = new SessionStore(join(root, 'deep', 'er', 'sessions'));
  const fresh = await store.loadOrCreate('demo', { persona: 'P' });
  assert.equal(fresh.revision, 0);
  assert.equal(fresh.conversation.persona, 'P');
  await store.save({ ...fresh, conversation: addUser(fresh.conversation, 'hi') });
  const again = await store.loadOrCreate('demo');
  assert.equal(again.revision, 1);
  assert.equal(again.conversation.turns.length, 1);
  assert.equal(await store.exists('demo'), true);
  assert.equal(await store.exists('other'), false);
});

test('rename and delete', async () => {
  const store = await freshStore();
  await store.save(sampleSession('a'));
  await store.save(sampleSession('b'));
  await assert.rejects(store.rename('a', 'b'), isCode('exists'));
  await assert.rejects(store.rename('zzz', 'c'), isCode('not-found'));
  await assert.rejects(store.rename('a', '../c'), isCode('bad-name'));
  await store.rename('a', 'c');
  assert.deepEqual((await store.list()).map((e) => e.name).sort(), ['b', 'c']);
  const c = await store.load('c');
  assert.equal(c.name, 'c');
  assert.equal((await store.save(c)).revision, 2, 'a renamed session saves on');
  await store.delete('b');
  await assert.rejects(store.delete('b'), isCode('not-found'));
  assert.deepEqual(
    (await store.list()).map((e) => e.name),
    ['c'],
  );
});

test('Markdown export: title, model, persona, turns and reply details', () => {
  const s = { ...sampleSession('My chat'), model: 'gpt2', dtype: 'q8' as const };
  const withStop = { ...s, conversation: appendReply(s.conversation, 'cut short', { ...meta, interrupted: true, reason: 'cancelled' }) };
  const md = sessionToMarkdown(setPersonaOf(withStop, 'Be *brief*.'), { user: 'Ann', assistant: 'Bot' });
  assert.ok(md.startsWith('# My chat\n\n- Model: gpt2 (q8)\n'));
  assert.ok(md.includes('## Persona\n\n> Be *brief*.'));
  assert.ok(md.includes('## Ann\n\nGrüße!'));
  assert.ok(md.includes('## Bot\n\nBonjour ! 😀'));
  assert.ok(md.includes('Xenova/gpt2 q8 · 7 tokens · 31.5 tok/s · temperature 0.8'));
  assert.ok(md.includes('stopped by the user'));
  assert.ok(md.includes('_(empty)_'));
  assert.ok(md.endsWith('\n') && !md.endsWith('\n\n'));
});

function setPersonaOf(session: Session, persona: string): Session {
  return { ...session, conversation: setPersona(session.conversation, persona) };
}

test('a session file that links to another file is named in the error, and none of that file is quoted', async () => {
  const store = await freshStore();
  const secret = join(root, `elsewhere-${dirs}.txt`);
  await writeFile(secret, 'root:x:0:0:root:/root:/bin/bash\n');
  await symlink(secret, store.pathOf('linked'));
  await assert.rejects(store.load('linked'), (error: unknown) => {
    assert.ok(error instanceof SessionError);
    assert.equal(error.code, 'invalid');
    assert.ok(!error.message.includes('root:x'), error.message);
    assert.ok(error.message.includes(secret), error.message);
    return true;
  });
  assert.equal(await readFile(secret, 'utf8'), 'root:x:0:0:root:/root:/bin/bash\n');
  // A link to a valid session still loads.
  const good = await store.save(sampleSession('good'));
  await symlink(store.pathOf('good'), store.pathOf('alias'));
  assert.equal((await store.load('alias')).revision, good.revision);
});

test(
  'a session file that is not a regular file (a FIFO) is refused at once, not waited on',
  { skip: process.platform === 'win32' },
  async () => {
    const store = await freshStore();
    spawnSync('mkfifo', [store.pathOf('pipe')]);
    const timer = setTimeout(() => {
      // Release a reader stuck on the FIFO so a failing run still ends.
      try {
        closeSync(openSync(store.pathOf('pipe'), constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {
        // Nobody reading.
      }
    }, 3000);
    try {
      await assert.rejects(
        store.load('pipe'),
        (error: unknown) => error instanceof SessionError && error.code === 'unreadable' && /not a regular file/.test(error.message),
      );
    } finally {
      clearTimeout(timer);
    }
  },
);

test('the file text is JSON.stringify(file, null, 2) whatever the turns, written a turn at a time', () => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ user: fc.string({ unit: 'binary' }), reply: fc.string({ unit: 'grapheme' }) }), { maxLength: 6 }),
      fc.option(fc.string(), { nil: null }),
      (exchanges, persona) => {
        let c = setPersona(newSession('p').conversation, persona);
        for (const { user, reply } of exchanges) c = appendReply(addUser(c, user), reply, meta);
        const session: Session = { ...newSession('p'), conversation: c };
        const expected = {
          format: 'parley-session',
          version: 1,
          createdAt: session.createdAt,
          updatedAt: session.updatedAt,
          revision: session.revision,
          model: session.model,
          dtype: session.dtype,
          params: session.params,
          windowStart: null,
          persona: c.persona,
          turns: c.turns,
        };
        assert.equal(serializeSession(session), JSON.stringify(expected, null, 2) + '\n');
      },
    ),
    { numRuns: 60 },
  );
});

test('a session changed on disk by another store (another process) since this one read it is not overwritten', async () => {
  const mine = await freshStore();
  const theirs = new SessionStore(mine.dir);
  await mine.save(sampleSession('two'));
  const loaded = await mine.load('two');
  const theirSession = await theirs.load('two');
  await theirs.save({ ...theirSession, conversation: appendReply(theirSession.conversation, 'theirs') });
  await assert.rejects(mine.save({ ...loaded, conversation: appendReply(loaded.conversation, 'mine') }), isCode('conflict'));
  // A file rewritten in place (same inode) to another revision is noticed too.
  const file = mine.pathOf('two');
  const current = await mine.load('two');
  const text = await readFile(file, 'utf8');
  await new Promise((resolve) => setTimeout(resolve, 5));
  await writeFile(file, text.replace(`"revision": ${current.revision}`, `"revision": ${current.revision + 1}`));
  await assert.rejects(mine.save(current), isCode('conflict'));
  // After its own save, the store saves again without a conflict.
  const again = await mine.load('two');
  const saved = await mine.save({ ...again, conversation: appendReply(again.conversation, 'next') });
  assert.equal((await mine.save(saved)).revision, saved.revision + 1);
});
