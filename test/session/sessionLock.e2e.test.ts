// Session locks across processes: a live owner in another process makes a save wait, then
// report "busy"; once it is killed, or when its pid now belongs to another process, the lock
// is taken over; the owner files of killed processes are cleaned up.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { processStartOf } from '../../src/session/sessionLock.js';
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
    await writeFile(
      join(store.dir, '.reused.json.lock'),
      JSON.stringify({ pid: other.pid, host: hostname(), start: 'a process long gone' }),
    );
    assert.equal((await store.save(await store.load('reused'))).revision, 2);
  } finally {
    other.kill('SIGKILL');
    await once(other, 'exit');
  }
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
