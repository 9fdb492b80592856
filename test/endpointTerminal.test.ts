// A real terminal: tmux drives `parley --endpoint` while `parley serve` runs in the same test.
// Send, Esc, /retry, /stats, save, a local model, then /load brings the server's model back.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO_ROOT, tinyModelDir } from './helpers/fixtures.js';
import { startServe, type ServeProcess } from './helpers/serveProcess.js';

const hasTmux = ((): boolean => {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

const SOCKET = `parley-endpoint-${process.pid}`;
const PANE = 'endpoint';
const KEY = 'terminal-key';
const tmux = (...args: string[]): string => execFileSync('tmux', ['-L', SOCKET, ...args], { encoding: 'utf8' });
const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
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

let root: string;
let modelDir: string;
let serve: ServeProcess;

before(async () => {
  if (!hasTmux) return;
  modelDir = await tinyModelDir();
  root = await mkdtemp(path.join(tmpdir(), 'parley-endpoint-e2e-'));
  serve = await startServe(['--model', modelDir, '--offline', '--api-key', KEY], { PARLEY_CONFIG_DIR: path.join(root, 'serve-config') });
});

after(async () => {
  if (!hasTmux) return;
  try {
    tmux('kill-server');
  } catch {
    // Already gone with its last pane.
  }
  await serve?.stop();
  await rm(root, { recursive: true, force: true });
});

test('parley --endpoint in a real terminal: send, Esc, /retry, /stats, /save, and /load restores the endpoint', { skip: hasTmux ? false : 'tmux is not installed' }, async () => {
  const env = {
    PARLEY_SESSIONS_DIR: path.join(root, 'sessions'),
    PARLEY_CONFIG_DIR: path.join(root, 'config'),
    PARLEY_DATA_DIR: path.join(root, 'data'),
    PARLEY_CACHE_DIR: path.join(root, 'cache'),
    PARLEY_API_KEY: KEY,
  };
  const command = [
    'env',
    ...Object.entries(env).map(([k, v]) => `${k}=${shellQuote(v)}`),
    shellQuote(process.execPath),
    shellQuote(path.join(REPO_ROOT, 'dist', 'src', 'cli.js')),
    '--endpoint',
    shellQuote(serve.baseURL),
    '--model',
    'tiny-random',
    '--max-tokens',
    '900',
    '--temperature',
    '0',
    '--session',
    'remote',
  ].join(' ');
  const port = new URL(serve.baseURL).port;
  const label = new RegExp(`Model tiny-random@127\\.0\\.0\\.1:${port} ready \\(fp32, 1024 tokens of context\\)`);
  tmux('new-session', '-d', '-s', PANE, '-x', '110', '-y', '45', 'sh');
  typeLine(command);
  await waitForScreen(label);

  typeLine('hello there');
  // Once the reply is streaming, stop it: the HTTP request is aborted, the server sees the client go.
  await waitForScreen(/Esc stops the reply/);
  tmux('send-keys', '-t', PANE, 'Escape');
  await waitForScreen(/\(interrupted\)/);
  const until = Date.now() + 10_000;
  while (!serve.stderr().includes('POST /v1/completions 200 (client gone)')) {
    if (Date.now() > until) assert.fail(`the server never saw the client go:\n${serve.stderr()}`);
    await new Promise((r) => setTimeout(r, 50));
  }

  typeLine('/max-tokens 16');
  await waitForScreen(/max tokens set to 16|16 for this session/i);
  typeLine('/retry');
  await waitForScreen(/Regenerating the last reply/);
  for (const until = Date.now() + 30_000; /Esc stops the reply|thinking…/.test(screen()); ) {
    if (Date.now() > until) assert.fail(`the retried reply never ended:\n${screen()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  typeLine('/stats');
  await waitForScreen(/Last reply: TTFT [^\n]*16 generated tokens \(length\)/);

  typeLine('/save remote-saved');
  await waitForScreen(/Saved session remote-saved/);
  typeLine('/new');
  await waitForScreen(/New session/);
  typeLine(`/model ${modelDir}`);
  await waitForScreen(/Model tiny-random ready/);
  typeLine('/load remote-saved');
  await waitForScreen(/Switch to it\? \(y\/N\)/);
  typeLine('y');
  await waitForScreen(new RegExp(`Resumed session remote-saved[\\s\\S]*${label.source}`));
  typeLine('/context');
  await waitForScreen(/Token counts: the server's tokenizer \(POST \/tokenize\)\. Context length: as the server reports it\./);
  typeLine('/exit');

  const file = path.join(env.PARLEY_SESSIONS_DIR, 'remote-saved.json');
  const saveDeadline = Date.now() + 10_000;
  while (!existsSync(file)) {
    if (Date.now() > saveDeadline) assert.fail(`no session saved; screen:\n${screen()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const saved = readFileSync(file, 'utf8');
  assert.equal((JSON.parse(saved) as { model: string }).model, `endpoint:tiny-random@${serve.baseURL}`);
  assert.ok(!saved.includes(KEY), 'the key is never saved');
  for (const name of ['settings.json', 'config.json']) {
    const settings = path.join(env.PARLEY_CONFIG_DIR, name);
    if (existsSync(settings)) assert.ok(!readFileSync(settings, 'utf8').includes(KEY));
  }
});
