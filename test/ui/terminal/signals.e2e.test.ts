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
import { SessionStore } from '../../../src/session/sessionStore.js';
import { hasTmux, shellQuote, TmuxPane } from '../../helpers/tmuxPane.js';
import { waitUntil } from '../../helpers/waitFor.js';

const CHILD = fileURLToPath(new URL('../../helpers/chatChild.js', import.meta.url));

let root: string;
const panes: TmuxPane[] = [];

before(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'parley-signals-'));
});

after(async () => {
  for (const pane of panes) pane.close();
  // Closing the terminal hangs up on Parley, which saves as it goes: retry while it writes.
  await rm(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 });
});

const until = <T>(read: () => T, accept: (value: T) => boolean, what: string, timeoutMs = 20_000): Promise<T> =>
  waitUntil(read, accept, timeoutMs, what, 50);

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Starts the chat in a pane of its own, sends a message, waits until the reply streams; returns the pane, the pid and where the exit code goes. */
async function streamingChat(name: string, mode = ''): Promise<{ pane: TmuxPane; pid: number; sessions: string; codeFile: string }> {
  const dir = path.join(root, name);
  const sessions = path.join(dir, 'sessions');
  const pidFile = path.join(dir, 'pid');
  const codeFile = path.join(dir, 'code');
  execFileSync('mkdir', ['-p', dir]);
  const command = `node ${shellQuote(CHILD)} ${shellQuote(sessions)} ${shellQuote(pidFile)} ${mode}; echo $? > ${shellQuote(codeFile)}; sleep 60`;
  const pane = new TmuxPane({ columns: 100, rows: 30, name, command });
  panes.push(pane);
  const pid = Number(await until(() => (existsSync(pidFile) ? readFileSync(pidFile, 'utf8') : ''), Boolean, 'the pid'));
  await pane.waitFor(/Model gpt2 ready/, 20_000);
  pane.typeLine('tell me everything');
  await pane.waitFor(/ w1\b/, 20_000);
  return { pane, pid, sessions, codeFile };
}

async function savedInterrupted(sessions: string): Promise<void> {
  const session = await new SessionStore(sessions).load('signalled');
  const turns = session.conversation.turns;
  assert.equal(turns.length, 2, 'the message and the partial reply');
  assert.equal(turns[0]?.text, 'tell me everything');
  assert.match(turns[1]?.text ?? '', /^w0 w1/);
  assert.equal(turns[1]?.meta?.interrupted, true);
}

test(
  'SIGTERM while the first reply streams: the session is saved, the reply marked interrupted, the process ends',
  { skip: !hasTmux },
  async () => {
    const { pane, pid, sessions } = await streamingChat('term');
    process.kill(pid, 'SIGTERM');
    await until(
      () => alive(pid),
      (a) => !a,
      'the process to end',
      5000,
    );
    await savedInterrupted(sessions);
    // Leaving says where the conversation went and how to come back to it.
    await pane.waitFor(/saved as signalled; resume with parley --resume \(or parley -s signalled\)/, 5000);
  },
);

test('closing the terminal (SIGHUP) while the first reply streams saves the session too', { skip: !hasTmux }, async () => {
  const { pane, pid, sessions } = await streamingChat('hup');
  pane.killSession();
  await until(
    () => alive(pid),
    (a) => !a,
    'the process to end',
    5000,
  );
  await savedInterrupted(sessions);
});

test('an uncaught exception: terminal restored, session saved, one line, non-zero exit', { skip: !hasTmux }, async () => {
  const { pane, pid, sessions, codeFile } = await streamingChat('throw', 'throw');
  await until(
    () => alive(pid),
    (a) => !a,
    'the process to end',
    5000,
  );
  const code = await until(() => (existsSync(codeFile) ? readFileSync(codeFile, 'utf8').trim() : ''), Boolean, 'the exit code');
  assert.notEqual(code, '0');
  const screen = pane.screen();
  assert.match(screen, /parley: something broke outside any handler/);
  await savedInterrupted(sessions);
});
