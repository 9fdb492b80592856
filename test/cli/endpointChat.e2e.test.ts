// `parley --endpoint -p` as a user runs it, against a stand-in for vLLM (helpers/chatServerStub)
// that records every request: the prompt goes as messages to /v1/chat/completions, and the
// window is counted through the server's template.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { startStub, type Stub } from '../helpers/chatServerStub.js';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { tempParleyEnv, type TempParleyEnv } from '../helpers/parleyEnv.js';

let vllm: Stub;
let home: TempParleyEnv;

before(async () => {
  vllm = await startStub('vllm', 4096);
  home = await tempParleyEnv('endpoint-chat');
});

after(async () => {
  await vllm?.app.close();
  await home?.remove();
});

test('parley --endpoint -p sends the prompt as a user message to /v1/chat/completions', async () => {
  const env = { ...process.env, ...home.env };
  const args = [
    path.join(REPO_ROOT, 'dist', 'src', 'cli.js'),
    '--endpoint',
    vllm.url,
    '--model',
    'stub-instruct',
    '--system',
    'Be brief.',
    '-p',
    'Hello there',
  ];
  const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const code = await new Promise((resolve) => child.on('exit', resolve));
  assert.equal(code, 0, stderr);
  assert.equal(stdout.trim(), 'Hello from the stub');
  const chat = vllm.posted.filter((p) => p.route === '/v1/chat/completions');
  assert.equal(chat.length, 1);
  assert.deepEqual(chat[0]!.body['messages'], [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'Hello there' },
  ]);
  assert.ok(!vllm.posted.some((p) => p.route === '/v1/completions'));
  // The window was counted as the server will prompt it: its messages, through the routing engine the CLI uses.
  assert.ok(
    vllm.posted.some((p) => p.route === '/tokenize' && JSON.stringify(p.body['messages']) === JSON.stringify(chat[0]!.body['messages'])),
  );
});
