// Saves that fail for real, in a process of their own (helpers/sessionChild): the kernel's
// errors, not simulations, each reported in one line with the old file left intact.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SessionStore } from '../../src/session/sessionStore.js';

const root = await mkdtemp(join(tmpdir(), 'parley-save-failures-'));
after(() => rm(root, { recursive: true, force: true }));
let dirs = 0;
async function freshStore(): Promise<SessionStore> {
  const dir = join(root, `s${dirs++}`);
  await mkdir(dir);
  return new SessionStore(dir);
}

const CHILD = fileURLToPath(new URL('../helpers/sessionChild.js', import.meta.url));

// Real kernel errors, not simulations: a file size limit gives EFBIG, and a directory the
// (unprivileged) process cannot write gives EACCES. Root ignores permissions, so as root
// the child runs as "nobody".
function child(args: string[], options: { fileSizeLimitKb?: number; asNobody?: boolean } = {}): Record<string, unknown> {
  const asNobody = options.asNobody && process.getuid?.() === 0;
  const command = options.fileSizeLimitKb === undefined ? process.execPath : '/bin/sh';
  const argv =
    options.fileSizeLimitKb === undefined
      ? [CHILD, ...args]
      : ['-c', `ulimit -f ${options.fileSizeLimitKb} && exec "$0" "$@"`, process.execPath, CHILD, ...args];
  const out = spawnSync(command, argv, { encoding: 'utf8', ...(asNobody ? { uid: 65534, gid: 65534 } : {}) });
  assert.equal(out.status, 0, out.stderr);
  return JSON.parse(out.stdout) as Record<string, unknown>;
}

test('disk full (file size limit): a clear error, the old file intact, the conversation still in memory', async () => {
  const store = await freshStore();
  assert.deepEqual(child(['try-save', store.dir, 'big', '100']), { ok: true, turns: 1 });
  const before = await readFile(store.pathOf('big'));
  const result = child(['try-save', store.dir, 'big', '200000'], { fileSizeLimitKb: 64 });
  assert.equal(result.ok, false);
  assert.equal(result.code, 'disk-full');
  assert.match(String(result.message), /session "big" was not saved: the file would exceed the file size limit/);
  assert.equal(result.turnsInMemory, 2);
  assert.deepEqual(await readFile(store.pathOf('big')), before);
  assert.deepEqual(await readdir(store.dir), ['big.json'], 'the temporary file is cleaned up');
});

test('read-only sessions directory: a clear error naming it, nothing written', async () => {
  const store = await freshStore();
  await chmod(root, 0o755); // mkdtemp's 0o700 would keep "nobody" out altogether
  await chmod(store.dir, 0o555);
  try {
    const result = child(['try-save', store.dir, 'ro', '10'], { asNobody: true });
    assert.equal(result.ok, false);
    assert.equal(result.code, 'read-only');
    assert.match(
      String(result.message),
      new RegExp(`session "ro" was not saved: ${store.dir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not writable`),
    );
    assert.equal(result.turnsInMemory, 1);
    assert.deepEqual(await readdir(store.dir), []);
  } finally {
    await chmod(store.dir, 0o755);
  }
});
