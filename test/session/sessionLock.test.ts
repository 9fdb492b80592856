// Session locks across processes: a lock whose owner is gone is taken over at once, even
// when it names our own pid (a killed Parley that was PID 1 in a container, pid reuse); a
// live owner makes a save wait, then report "busy".
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { lockIsStale, parseLockOwner, processStartOf, UNKNOWN_OWNER_STALE_MS, type LockContext } from '../../src/session/sessionLock.js';
import { newSession, SessionError, SessionStore } from '../../src/session/sessionStore.js';
import { addUser } from '../../src/prompt/conversation.js';

const root = await mkdtemp(join(tmpdir(), 'parley-locks-'));
after(() => rm(root, { recursive: true, force: true }));
let dirs = 0;
async function freshStore(options: { lockWaitMs?: number } = {}): Promise<SessionStore> {
  const dir = join(root, `s${dirs++}`);
  return new SessionStore(dir, options);
}
const CHILD = fileURLToPath(new URL('../helpers/sessionChild.js', import.meta.url));

function session(name: string) {
  const s = newSession(name);
  return { ...s, conversation: addUser(s.conversation, 'hello') };
}

/** A child process that takes the session's lock through the store's own code and keeps it. */
async function lockHolder(dir: string, name: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [CHILD, 'hold-lock', dir, name], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [chunk] = (await once(child.stdout!, 'data')) as [Buffer];
  assert.equal(chunk.toString().trim(), 'locked');
  return child;
}

test('a lock left with our own pid by a killed process is taken over at once', async () => {
  const store = await freshStore({ lockWaitMs: 200 });
  await store.save(session('mine')).then((s) => assert.equal(s.revision, 1));
  const lock = join(store.dir, '.mine.json.lock');
  // What an older Parley killed mid-save leaves when it had our pid (PID 1 in a container).
  await writeFile(lock, String(process.pid));
  assert.equal((await store.save(await store.load('mine'))).revision, 2);
  // The same from this Parley: our pid and host, another process's start time.
  await writeFile(lock, JSON.stringify({ pid: process.pid, host: hostname(), start: 'an earlier process' }));
  await writeFile(join(store.dir, `.mine.json.${process.pid}.0badf00d.tmp`), '{"half": ');
  assert.equal((await store.save(await store.load('mine'))).revision, 3);
  assert.deepEqual(await readdir(store.dir), ['mine.json'], 'no lock or temporary file left, even one named with our pid');
});

test('a live holder in another process makes the save wait, then report busy; killed -9, its lock is taken over', async () => {
  const store = await freshStore({ lockWaitMs: 150 });
  await store.save(session('shared'));
  const child = await lockHolder(store.dir, 'shared');
  try {
    const lock = join(store.dir, '.shared.json.lock');
    await assert.rejects(
      store.save(await store.load('shared')),
      (e: unknown) => e instanceof SessionError && e.code === 'busy' && e.message.includes(lock),
    );
  } finally {
    child.kill('SIGKILL');
    await once(child, 'exit');
  }
  assert.equal((await store.save(await store.load('shared'))).revision, 2);
  assert.deepEqual(await readdir(store.dir), ['shared.json']);
});

test('a lock whose pid now belongs to another live process (pid reuse) is taken over', async (t) => {
  const store = await freshStore({ lockWaitMs: 150 });
  await store.save(session('reused'));
  const other = await lockHolder(store.dir, 'unrelated');
  try {
    if (processStartOf(other.pid!) === null) return t.skip('no way to read a process start time here');
    await writeFile(join(store.dir, '.reused.json.lock'), JSON.stringify({ pid: other.pid, host: hostname(), start: 'a process long gone' }));
    assert.equal((await store.save(await store.load('reused'))).revision, 2);
  } finally {
    other.kill('SIGKILL');
    await once(other, 'exit');
  }
});

test('two saves of one session in one process wait for each other: one saves, the other reports the conflict', async () => {
  const store = await freshStore();
  const base = session('twice');
  const results = await Promise.allSettled([store.save(base), store.save(base)]);
  const saved = results.filter((r) => r.status === 'fulfilled');
  const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  assert.equal(saved.length, 1);
  assert.equal(refused.length, 1);
  assert.equal((refused[0]!.reason as SessionError).code, 'conflict');
});

test('lockIsStale: the rule, case by case', () => {
  const here = (over: Partial<LockContext> = {}): LockContext => ({
    pid: 100,
    host: 'here',
    holdsIt: false,
    runs: (pid) => pid === 100 || pid === 200,
    startOf: (pid) => (pid === 200 ? 't200' : pid === 100 ? 't100' : null),
    ...over,
  });
  const young = 5;
  const old = UNKNOWN_OWNER_STALE_MS + 1;
  assert.equal(lockIsStale({ pid: 100, host: 'here', start: 't100' }, young, here({ holdsIt: true })), false, 'our own save in flight');
  assert.equal(lockIsStale({ pid: 100, host: 'here', start: 't100' }, young, here()), true, 'our pid, not our save');
  assert.equal(lockIsStale({ pid: 100, host: null, start: null }, young, here()), true, 'older plain-pid lock with our pid');
  assert.equal(lockIsStale({ pid: 200, host: 'here', start: 't200' }, young, here()), false, 'a live other holder');
  assert.equal(lockIsStale({ pid: 200, host: null, start: null }, young, here()), false, 'a live other holder, start unknown');
  assert.equal(lockIsStale({ pid: 200, host: 'here', start: 'older' }, young, here()), true, 'pid reused');
  assert.equal(lockIsStale({ pid: 300, host: 'here', start: 'x' }, young, here()), true, 'holder gone');
  assert.equal(lockIsStale({ pid: 200, host: 'there', start: 't200' }, young, here()), false, 'another host: wait');
  assert.equal(lockIsStale({ pid: 200, host: 'there', start: 't200' }, old, here()), true, 'another host, long abandoned');
  assert.equal(lockIsStale(null, young, here()), false, 'being written');
  assert.equal(lockIsStale(null, old, here()), true, 'never written');
});

test('parseLockOwner reads both lock formats and rejects the rest', () => {
  assert.deepEqual(parseLockOwner('1234\n'), { pid: 1234, host: null, start: null });
  assert.deepEqual(parseLockOwner('{"pid":7,"host":"h","start":"s"}'), { pid: 7, host: 'h', start: 's' });
  for (const bad of ['', '0', '-3', 'x', '{"pid":"7"}', '[]', 'null', '{"pid":1.5}']) assert.equal(parseLockOwner(bad), null, bad);
});

test('the owner files of processes killed while creating a lock are removed by the next save; a live process keeps its own', async () => {
  const store = await freshStore();
  const dir = join(root, `s${dirs - 1}`);
  await store.save(session('staged'));
  const gone = spawn(process.execPath, ['-e', '0']);
  await once(gone, 'exit');
  const live = await lockHolder(dir, 'other');
  const dead = `.staged.json.lock.${gone.pid}.1.owner`;
  const alive = `.staged.json.lock.${live.pid}.1.owner`;
  await writeFile(join(dir, dead), '{}');
  await writeFile(join(dir, alive), '{}');
  await store.save(await store.load('staged'));
  const names = await readdir(dir);
  live.kill('SIGKILL');
  assert.equal(names.includes(dead), false, 'a dead writer’s owner file is removed');
  assert.equal(names.includes(alive), true, 'a live process’s file is left alone');
});
