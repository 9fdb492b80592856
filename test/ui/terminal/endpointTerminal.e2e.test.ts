// A real terminal: tmux drives `parley --endpoint` while `parley serve` runs in the same test.
// Send, Esc, /retry, /stats, save, a local model, then /load brings the server's model back.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { tinyModelDir } from '../../helpers/fixtures.js';
import { startServe, type ServeProcess } from '../../helpers/serveProcess.js';
import { tempParleyEnv, type TempParleyEnv } from '../../helpers/parleyEnv.js';
import { cliCommand, hasTmux, TmuxPane } from '../../helpers/tmuxPane.js';
import { waitFor } from '../../helpers/waitFor.js';

const KEY = 'terminal-key';

let home: TempParleyEnv;
let modelDir: string;
let serve: ServeProcess;
let pane: TmuxPane | null = null;

before(async () => {
  if (!hasTmux) return;
  modelDir = await tinyModelDir();
  home = await tempParleyEnv('endpoint-e2e');
  serve = await startServe(['--model', modelDir, '--offline', '--api-key', KEY], {
    PARLEY_CONFIG_DIR: path.join(home.root, 'serve-config'),
  });
});

after(async () => {
  if (!hasTmux) return;
  pane?.close();
  await serve?.stop();
  // Closing the terminal hangs up on Parley, which saves as it goes: remove() retries while it writes.
  await home.remove();
});

test(
  'parley --endpoint in a real terminal: send, Esc, /retry, /stats, /save, and /load restores the endpoint',
  { skip: hasTmux ? false : 'tmux is not installed' },
  async () => {
    const env = { ...home.env, PARLEY_API_KEY: KEY };
    const command = cliCommand(env, [
      '--endpoint',
      serve.baseURL,
      '--model',
      'tiny-random',
      '--max-tokens',
      '900',
      '--temperature',
      '0',
      '--session',
      'remote',
    ]);
    const port = new URL(serve.baseURL).port;
    const label = new RegExp(`Model tiny-random on 127\\.0\\.0\\.1:${port} ready \\(1024 tokens of context\\)`);
    pane = new TmuxPane({ columns: 110, rows: 45, name: 'endpoint' });
    pane.typeLine(command);
    await pane.waitFor(label);

    pane.typeLine('hello there');
    // Once the reply is streaming, stop it: the HTTP request is aborted, the server sees the client go.
    await pane.waitFor(/Esc stops the reply/);
    pane.key('Escape');
    await pane.waitFor(/\(interrupted\)/);
    await waitFor(() => serve.stderr().includes('POST /v1/chat/completions 200 (client gone)'), {
      timeoutMs: 10_000,
      intervalMs: 50,
      what: 'the server to see the client go',
      detail: () => serve.stderr(),
    });
    // The chat goes as messages, never as a raw prompt.
    assert.ok(!serve.stderr().includes('POST /v1/completions'), serve.stderr());

    pane.typeLine('/max-tokens 16');
    await pane.waitFor(/max tokens set to 16|16 for this session/i);
    pane.typeLine('/retry');
    await pane.waitFor(/Regenerating the last reply/);
    await waitFor(() => !/Esc stops the reply|thinking…/.test(pane!.screen()), {
      timeoutMs: 30_000,
      intervalMs: 50,
      what: 'the retried reply to end',
      detail: () => pane!.screen(),
    });
    pane.typeLine('/stats');
    await pane.waitFor(/Last reply: TTFT [^\n]*16 generated tokens \(length\)/);

    pane.typeLine('/save remote-saved');
    await pane.waitFor(/Saved session remote-saved/);
    pane.typeLine('/new');
    await pane.waitFor(/New session/);
    pane.typeLine(`/model ${modelDir}`);
    await pane.waitFor(/Model tiny-random ready/);
    pane.typeLine('/load remote-saved');
    await pane.waitFor(/Switch to it\? \(y\/N\)/);
    pane.typeLine('y');
    await pane.waitFor(new RegExp(`Resumed session remote-saved[\\s\\S]*${label.source}`));
    pane.typeLine('/context');
    // The line wraps at the pane's width: any run of spaces may be a line break.
    await pane.waitFor(
      /Token\s+counts:\s+the\s+server's,\s+of\s+the\s+window's\s+messages\s+through\s+its\s+own\s+chat\s+template\s+\(POST\s+\/tokenize\)\.\s+Context\s+length:\s+as\s+the\s+server\s+reports\s+it\./,
    );
    pane.typeLine('/exit');

    const file = path.join(env.PARLEY_SESSIONS_DIR, 'remote-saved.json');
    await waitFor(() => existsSync(file), {
      timeoutMs: 10_000,
      intervalMs: 50,
      what: 'the session to be saved',
      detail: () => pane!.screen(),
    });
    const saved = readFileSync(file, 'utf8');
    assert.equal((JSON.parse(saved) as { model: string }).model, `endpoint:tiny-random@${serve.baseURL}`);
    assert.ok(!saved.includes(KEY), 'the key is never saved');
    for (const name of ['settings.json', 'config.json']) {
      const settings = path.join(env.PARLEY_CONFIG_DIR, name);
      if (existsSync(settings)) assert.ok(!readFileSync(settings, 'utf8').includes(KEY));
    }
  },
);
