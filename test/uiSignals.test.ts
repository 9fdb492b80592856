// Signals and fatal errors in a real terminal: the chat in a tmux pane of its own, sent
// SIGTERM, closed (SIGHUP), or broken by an uncaught exception while the first reply of a
// new session streams. The session must be on disk afterwards, the reply marked interrupted.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SessionStore } from '../src/session/sessionStore.js';

const CHILD = fileURLToPath(new URL('./chatChild.js', import.meta.url));
const hasTmux = ((): boolean => {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
const SOCKET = `parley-signals-${process.pid}`;
const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
const quote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

let root: string;

before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'parley-signals-'));
});

after(async () => {
  if (hasTmux) {
    try {
      tmux('kill-server');
    } catch {
      // Gone with its last pane.
    }
  }
  await rm(root, { recursive: true, force: true });
});

async function until<T>(read: () => T, accept: (value: T) => boolean, what: string, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last: ${String(value)}`);
    await sleep(50);
  }
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Starts the chat in window `name`, sends a message, waits until the reply streams; returns the pid and where the exit code goes. */
async function streamingChat(name: string, mode = ''): Promise<{ pid: number; sessions: string; codeFile: string }> {
  const dir = path.join(root, name);
  const sessions = path.join(dir, 'sessions');
  const pidFile = path.join(dir, 'pid');
  const codeFile = path.join(dir, 'code');
  execFileSync('mkdir', ['-p', dir]);
  const command = `node ${quote(CHILD)} ${quote(sessions)} ${quote(pidFile)} ${mode}; echo $? > ${quote(codeFile)}; sleep 60`;
  tmux('new-session', '-d', '-s', name, '-x', '100', '-y', '30', 'sh', '-c', command);
  const pid = Number(await until(() => (existsSync(pidFile) ? readFileSync(pidFile, 'utf8') : ''), Boolean, 'the pid'));
  await until(() => tmux('capture-pane', '-p', '-t', name), (s) => s.includes('Model gpt2 ready'), 'the model');
  tmux('send-keys', '-t', name, '-l', 'tell me everything');
  tmux('send-keys', '-t', name, 'Enter');
  await until(() => tmux('capture-pane', '-p', '-t', name), (s) => / w1\b/.test(s), 'the reply streaming');
  return { pid, sessions, codeFile };
}

async function savedInterrupted(sessions: string): Promise<void> {
  const session = await new SessionStore(sessions).load('signalled');
  const turns = session.conversation.turns;
  assert.equal(turns.length, 2, 'the message and the partial reply');
  assert.equal(turns[0]?.text, 'tell me everything');
  assert.match(turns[1]?.text ?? '', /^w0 w1/);
  assert.equal(turns[1]?.meta?.interrupted, true);
}

test('SIGTERM while the first reply streams: the session is saved, the reply marked interrupted, the process ends', { skip: !hasTmux }, async () => {
  const { pid, sessions } = await streamingChat('term');
  process.kill(pid, 'SIGTERM');
  await until(() => alive(pid), (a) => !a, 'the process to end', 5000);
  await savedInterrupted(sessions);
});

test('closing the terminal (SIGHUP) while the first reply streams saves the session too', { skip: !hasTmux }, async () => {
  const { pid, sessions } = await streamingChat('hup');
  tmux('kill-session', '-t', 'hup');
  await until(() => alive(pid), (a) => !a, 'the process to end', 5000);
  await savedInterrupted(sessions);
});

test('an uncaught exception: terminal restored, session saved, one line, non-zero exit', { skip: !hasTmux }, async () => {
  const { pid, sessions, codeFile } = await streamingChat('throw', 'throw');
  await until(() => alive(pid), (a) => !a, 'the process to end', 5000);
  const code = await until(() => (existsSync(codeFile) ? readFileSync(codeFile, 'utf8').trim() : ''), Boolean, 'the exit code');
  assert.notEqual(code, '0');
  const screen = tmux('capture-pane', '-p', '-t', 'throw');
  assert.match(screen, /parley: something broke outside any handler/);
  await savedInterrupted(sessions);
});
