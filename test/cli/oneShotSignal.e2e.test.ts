// One-shot mode in a real process: the first Ctrl+C stops the reply and keeps it (saved with
// --session), the second quits. The settings library's signal traps once turned every Ctrl+C
// into two, so the first already quit and nothing was saved.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tinyModelDir } from '../helpers/fixtures.js';

const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));
const dir = await mkdtemp(path.join(tmpdir(), 'parley-oneshot-signal-'));
after(() => rm(dir, { recursive: true, force: true }));

test('one-shot: the first Ctrl+C stops the reply, which is kept and saved; the process exits 130 by itself', async () => {
  const model = await tinyModelDir();
  const env = { ...process.env, PARLEY_CONFIG_DIR: path.join(dir, 'config'), PARLEY_DATA_DIR: path.join(dir, 'data'), PARLEY_SESSIONS_DIR: path.join(dir, 'sessions') };
  const child = spawn(process.execPath, [CLI, '--model', model, '-p', 'Hello', '--session', 'stopped', '--max-tokens', '900', '--seed', '3'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const firstOutput = new Promise<void>((resolve) => child.stdout.once('data', () => resolve()));
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  await firstOutput;
  child.kill('SIGINT');
  const code = await exited;
  assert.equal(code, 130, stderr);
  const saved = JSON.parse(await readFile(path.join(dir, 'sessions', 'stopped.json'), 'utf8')) as { turns: { role: string; content: string; meta?: { interrupted?: boolean } }[] };
  const reply = saved.turns.at(-1);
  assert.equal(reply?.role, 'assistant');
  assert.equal(reply?.meta?.interrupted, true);
  assert.ok(stdout.trim().length > 0);
});
