// Crash safety of saves: a child process saves a growing session in a loop and is killed
// with SIGKILL at a random moment, several times over. After every kill the file must parse
// and hold at least every turn of the last save the child reported as completed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SessionStore } from '../../src/session/sessionStore.js';

const CHILD = fileURLToPath(new URL('../helpers/sessionChild.js', import.meta.url));
const ROUNDS = 8;

function random(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2 ** 31;
    return x / 2 ** 31;
  };
}

/** Runs the saving child until `killAfterMs` past its first save; returns the last count it reported. */
function runAndKill(dir: string, killAfterMs: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, 'crash', dir, 'crashy'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let lastSaved = 0;
    let buffered = '';
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const match = /^saved (\d+)$/.exec(line);
        if (match) lastSaved = Number(match[1]);
      }
      // The kill lands at a chosen moment into the saving, which is the point of the test.
      timer ??= setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (_code, signal) => {
      clearTimeout(timer);
      if (signal !== 'SIGKILL') reject(new Error(`child ended without being killed: ${stderr}`));
      else resolve(lastSaved);
    });
  });
}

test(`a session survives ${ROUNDS} kill -9s in the middle of saving`, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'parley-crash-'));
  try {
    const store = new SessionStore(dir);
    const r = random(7);
    let confirmed = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const reported = await runAndKill(dir, 20 + Math.floor(r() * 400));
      confirmed = Math.max(confirmed, reported);
      const session = await store.load('crashy');
      const turns = session.conversation.turns;
      assert.ok(turns.length >= confirmed, `round ${round}: ${turns.length} turns on disk, ${confirmed} confirmed saved`);
      assert.equal(turns.length % 2, 0, 'whole exchanges only');
      turns.forEach((t, i) => {
        assert.equal(t.role, i % 2 === 0 ? 'user' : 'assistant');
        assert.ok(t.text.startsWith(i % 2 === 0 ? `question ${i} ` : `answer ${i} `), `turn ${i}: ${t.text.slice(0, 30)}`);
      });
      assert.equal(session.revision, turns.length / 2, 'one save per exchange, none lost');
      confirmed = turns.length;
    }
    assert.ok(confirmed > ROUNDS * 2, `only ${confirmed} turns saved over ${ROUNDS} rounds`);
    // A later save clears what killed writers left behind (their lock and temporary files).
    await store.save(await store.load('crashy'));
    assert.deepEqual(await readdir(dir), ['crashy.json']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
