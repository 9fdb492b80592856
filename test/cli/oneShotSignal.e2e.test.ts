// One-shot mode in a real process: the first Ctrl+C stops the reply and keeps it (saved with
// --session), the second quits. The settings library's signal traps once turned every Ctrl+C
// into two, so the first already quit and nothing was saved.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tinyModelDir } from '../helpers/fixtures.js';
import { tempParleyEnv } from '../helpers/parleyEnv.js';

const CLI = fileURLToPath(new URL('../../src/cli.js', import.meta.url));
const home = await tempParleyEnv('oneshot-signal');
after(() => home.remove());

test('one-shot: the first Ctrl+C stops the reply, which is kept and saved; the process exits 130 by itself', async () => {
  const model = await tinyModelDir();
  const env = { ...process.env, ...home.env };
  const child = spawn(
    process.execPath,
    [CLI, '--model', model, '-p', 'Hello', '--session', 'stopped', '--max-tokens', '900', '--seed', '3'],
    { env, stdio: ['ignore', 'pipe', 'pipe'] },
  );
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
  const saved = JSON.parse(await readFile(path.join(home.env.PARLEY_SESSIONS_DIR, 'stopped.json'), 'utf8')) as {
    turns: { role: string; content: string; meta?: { interrupted?: boolean } }[];
  };
  const reply = saved.turns.at(-1);
  assert.equal(reply?.role, 'assistant');
  assert.equal(reply?.meta?.interrupted, true);
  assert.ok(stdout.trim().length > 0);
});
