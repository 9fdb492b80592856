// End to end in a real terminal: the built CLI in a tmux pane, typed into like a person would.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT, tinyModelDir } from './helpers/fixtures.js';

const hasTmux = ((): boolean => {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

// A server of our own (-L), so the test never touches anyone's tmux sessions.
const SOCKET = `parley-e2e-${process.pid}`;
const PANE = 'e2e';
const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

let root: string;
let modelDir: string;

const screen = (): string => tmux('capture-pane', '-p', '-t', PANE);

async function waitForScreen(pattern: RegExp, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const text = screen();
    if (pattern.test(text)) return text;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; screen:\n${text}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function typeLine(line: string): void {
  tmux('send-keys', '-t', PANE, '-l', line);
  tmux('send-keys', '-t', PANE, 'Enter');
}

before(async () => {
  if (!hasTmux) return;
  modelDir = await tinyModelDir();
  root = await mkdtemp(path.join(tmpdir(), 'parley-e2e-'));
});

after(async () => {
  if (!hasTmux) return;
  try {
    tmux('kill-server');
  } catch {
    // Already gone with its last pane.
  }
  await rm(root, { recursive: true, force: true });
});

test('parley in a real terminal: a reply, /temp in the status bar, /exit saves', { skip: hasTmux ? false : 'tmux is not installed' }, async () => {
  const env = {
    PARLEY_SESSIONS_DIR: path.join(root, 'sessions'),
    PARLEY_CONFIG_DIR: path.join(root, 'config'),
    PARLEY_DATA_DIR: path.join(root, 'data'),
    PARLEY_CACHE_DIR: path.join(root, 'cache'),
  };
  const command = [
    'env',
    ...Object.entries(env).map(([k, v]) => `${k}=${shellQuote(v)}`),
    shellQuote(process.execPath),
    shellQuote(path.join(REPO_ROOT, 'dist', 'src', 'cli.js')),
    '--model',
    shellQuote(modelDir),
    '--offline',
    '--max-tokens',
    '12',
    '--session',
    'e2e',
  ].join(' ');
  tmux('new-session', '-d', '-s', PANE, '-x', '100', '-y', '40', 'sh');
  typeLine(command);
  await waitForScreen(/random weights: output is noise/);
  typeLine('hello there');
  await waitForScreen(/\d+\.\d tok\/s/);
  typeLine('/temp 0.3');
  await waitForScreen(/temp 0\.3 top-k/);
  typeLine('/exit');
  const file = path.join(env.PARLEY_SESSIONS_DIR, 'e2e.json');
  const deadline = Date.now() + 10_000;
  while (!(existsSync(file) && readFileSync(file, 'utf8').includes('"temperature": 0.3'))) {
    if (Date.now() > deadline) assert.fail(`no session saved on exit; screen:\n${screen()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  const saved = JSON.parse(readFileSync(file, 'utf8')) as { turns: { role: string; text: string }[] };
  assert.deepEqual(saved.turns.map((t) => t.role), ['user', 'assistant']);
  assert.equal(saved.turns[0]?.text, 'hello there');
});
