// Session locks: a lock whose owner is gone is taken over at once, even when it names our own
// pid (a killed Parley that was PID 1 in a container); two saves in one process wait for
// each other; the staleness rule case by case. Owners in other processes:
// sessionLock.e2e.test.ts.
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { lockIsStale, parseLockOwner, UNKNOWN_OWNER_STALE_MS, type LockContext } from '../../src/session/sessionLock.js';
import { newSession, SessionError, SessionStore } from '../../src/session/sessionStore.js';
import { addUser } from '../../src/prompt/conversation.js';

const root = await mkdtemp(join(tmpdir(), 'parley-locks-'));
after(() => rm(root, { recursive: true, force: true }));
let dirs = 0;
async function freshStore(options: { lockWaitMs?: number } = {}): Promise<SessionStore> {
  const dir = join(root, `s${dirs++}`);
  return new SessionStore(dir, options);
}

function session(name: string) {
  const s = newSession(name);
  return { ...s, conversation: addUser(s.conversation, 'hello') };
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
