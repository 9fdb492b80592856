// --endpoint: the remote EngineClient and the CLI against `parley serve`, and against small
// misbehaving servers for the failures (stalls, no /tokenize, no context length).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import OpenAI from 'openai';
import { EngineError } from '../../../src/engine/engineClient.js';
import type { GenerateEvent, GenerateParams } from '../../../src/engine/protocol.js';
import { endpointLabel, endpointRef, normaliseEndpointUrl, parseEndpointRef } from '../../../src/engine/remote/endpointRef.js';
import { DEFAULT_REMOTE_CONTEXT, RemoteEngineClient } from '../../../src/engine/remote/remoteEngineClient.js';
import { RoutingEngineClient } from '../../../src/engine/remote/routingEngineClient.js';
import { canonicalModelRef } from '../../../src/engine/load/modelRefs.js';
import { REPO_ROOT, tinyModelDir } from '../../helpers/fixtures.js';
import { tempParleyEnv, type TempParleyEnv } from '../../helpers/parleyEnv.js';
import { startServe, type ServeProcess } from '../../helpers/serveProcess.js';
import { AutoTokenizer } from '@huggingface/transformers';
import { chatTurn, type ChatTurnResult } from '../../../src/chat/chatTurn.js';
import { addUser, appendReply, emptyConversation, setPersona } from '../../../src/prompt/conversation.js';
import { formatFor } from '../../../src/prompt/promptFormat.js';
import { newSession } from '../../../src/session/sessionStore.js';

const KEY = 'endpoint-test-key';
let serve: ServeProcess;
let home: TempParleyEnv;

const greedy: GenerateParams = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, maxNewTokens: 12, seed: null };

before(async () => {
  const modelDir = await tinyModelDir();
  serve = await startServe(['--model', modelDir, '--offline', '--api-key', KEY], { PARLEY_CONFIG_DIR: '/nonexistent-parley-config' });
  home = await tempParleyEnv('endpoint');
});

after(async () => {
  await serve?.stop();
  await home?.remove();
});

async function collect(stream: AsyncIterable<GenerateEvent>, onToken?: (n: number) => void) {
  let text = '';
  let n = 0;
  let done: Extract<GenerateEvent, { type: 'done' }> | null = null;
  for await (const e of stream) {
    if (e.type === 'token') {
      text += e.text;
      onToken?.(++n);
    } else done = e;
  }
  assert.ok(done);
  return { text, done };
}

test('endpoint refs: parsed, recorded with the URL, never with credentials; labels and canonical refs', () => {
  assert.deepEqual(parseEndpointRef('endpoint:llama3'), { name: 'llama3', url: null });
  assert.deepEqual(parseEndpointRef('endpoint:owner/m:8b@http://h:1/v1/'), { name: 'owner/m:8b', url: 'http://h:1/v1' });
  assert.equal(endpointRef('m', 'https://user:secret@example.com/v1?x=1'), 'endpoint:m@https://example.com/v1');
  assert.throws(() => normaliseEndpointUrl('ftp://x'), /http or https/);
  assert.throws(() => normaliseEndpointUrl('not a url'), /not a URL/);
  assert.equal(endpointLabel('endpoint:m@http://127.0.0.1:8080/v1'), 'm@127.0.0.1:8080');
  assert.equal(canonicalModelRef('endpoint:m@http://h/v1', '/cwd', '/home'), 'endpoint:m@http://h/v1');
  const routing = new RoutingEngineClient({
    createLocal: () => assert.fail('no local engine'),
    endpoint: 'http://h:9/v1/',
    apiKey: null,
    contextLength: null,
  });
  assert.equal(routing.canonicalRef('endpoint:m'), 'endpoint:m@http://h:9/v1');
  assert.equal(routing.canonicalRef('gpt2'), 'gpt2');
});

test('the remote engine against parley serve: context from max_model_len, exact token counts, streaming, cancel', async () => {
  const engine = new RemoteEngineClient({ url: serve.baseURL, apiKey: KEY });
  const info = await engine.load('tiny-random', { dtype: 'fp32', offline: false });
  assert.equal(info.contextLength, 1024);
  assert.deepEqual(info.endpoint, {
    url: serve.baseURL,
    name: 'tiny-random',
    contextFrom: 'server',
    tokenCounts: 'server',
    windowCounts: 'messages',
  });
  const [ids] = await engine.tokenize(['Hello there, world']);
  assert.deepEqual(await engine.countTokens(['Hello there, world', '']), [ids!.length, 0]);

  const { text, done } = await collect(engine.generate('Once upon a time', greedy));
  assert.equal(done.reason, 'length');
  assert.equal(done.generatedTokens, 12);
  assert.equal(done.text, text);
  assert.ok(done.ttftMs > 0 && done.promptTokens > 0);
  const api = new OpenAI({ baseURL: serve.baseURL, apiKey: KEY });
  const direct = await api.completions.create({ model: 'tiny-random', prompt: 'Once upon a time', max_tokens: 12, temperature: 0 });
  assert.equal(text, direct.choices[0]!.text);

  const stream = engine.generate('A long story', { ...greedy, maxNewTokens: 900 });
  const cancelled = await collect(stream, (n) => n === 3 && engine.cancel(stream.requestId));
  assert.equal(cancelled.done.reason, 'cancelled');
  assert.ok(cancelled.done.text.length > 0);

  const tooLong = await collect(engine.generate('x', { ...greedy, maxNewTokens: 5000 }));
  assert.equal(tooLong.done.reason, 'error');
  assert.match(tooLong.done.error!, /^127\.0\.0\.1:\d+ answered 400: This model's maximum context length is 1024 tokens/);
  await assert.rejects(
    engine.load('no-such-model', { dtype: 'fp32', offline: false }),
    (e: unknown) => e instanceof EngineError && /has no model "no-such-model" \(it serves: tiny-random\)/.test(e.message),
  );
  const noKey = new RemoteEngineClient({ url: serve.baseURL, apiKey: null });
  await assert.rejects(noKey.load('tiny-random', { dtype: 'fp32', offline: false }), /answered 401/);
});

test("an instruct model behind --endpoint gets its own chat template: the server counts and prompts the window's messages", async () => {
  const folder = path.join(REPO_ROOT, 'test', 'fixtures', 'hf-qwen2-tiny');
  const qwen = await startServe(['--model', folder, '--offline'], { PARLEY_CONFIG_DIR: '/nonexistent-parley-config' });
  try {
    const engine = new RemoteEngineClient({ url: qwen.baseURL, apiKey: null });
    const info = await engine.load('hf-qwen2-tiny', { dtype: 'fp32', offline: false });
    assert.equal(info.hasChatTemplate, false, 'the client renders no template of its own');
    assert.equal(info.endpoint?.windowCounts, 'messages');
    let c = setPersona(emptyConversation(), 'Be brief.');
    c = appendReply(addUser(c, 'Hi'), 'Hello!');
    c = addUser(c, 'How are you?');
    const session = { ...newSession('qwen'), conversation: c };
    let result: ChatTurnResult | null = null;
    for await (const e of chatTurn({ engine, session, params: { ...greedy, maxNewTokens: 4 }, format: formatFor(info) }))
      if (e.type === 'done') result = e.result;
    assert.ok(result && result.reason !== 'error', result?.error);
    const tokenizer = await AutoTokenizer.from_pretrained(folder);
    const messages = [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello!' },
      { role: 'user', content: 'How are you?' },
    ];
    const templated = tokenizer.encode(
      tokenizer.apply_chat_template(messages, { add_generation_prompt: true, tokenize: false }) as string,
    ).length;
    // The server prompted the model with its ChatML, not Parley's "User: …" transcript…
    assert.equal(result.reply?.meta?.promptTokens, templated);
    // …and the window was counted the same way.
    assert.equal(result.window?.promptTokens, templated);
    assert.notEqual(templated, tokenizer.encode(result.window!.prompt).length);
  } finally {
    await qwen.stop();
  }
});

/** A server that lists a model without a context length, has no /tokenize, and stalls after its first chunk. */
async function stallingServer(): Promise<{ server: Server; url: string }> {
  const server = createServer((req, res) => {
    if (req.url === '/v1/models') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data: [{ id: 'stall', object: 'model', created: 0, owned_by: 'x' }] }));
    } else if (req.url === '/v1/completions') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(
        `data: ${JSON.stringify({ id: 'c', object: 'text_completion', created: 0, model: 'stall', choices: [{ index: 0, text: ' hi', finish_reason: null }] })}\n\n`,
      );
      // …and then nothing.
    } else if (req.url === '/v1/chat/completions') {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(
        `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 0, model: 'stall', choices: [{ index: 0, delta: { content: ' hi' }, finish_reason: null }] })}\n\n`,
      );
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as { port: number };
  return { server, url: `http://127.0.0.1:${address.port}/v1` };
}

test('a server without /tokenize or a context length: estimates, --context or the default; a stalled stream times out', async () => {
  const { server, url } = await stallingServer();
  try {
    const engine = new RemoteEngineClient({ url, apiKey: null, readTimeoutMs: 300 });
    const info = await engine.load('stall', { dtype: 'fp32', offline: false });
    assert.equal(info.contextLength, DEFAULT_REMOTE_CONTEXT);
    assert.equal(info.endpoint?.contextFrom, 'default');
    assert.equal(info.endpoint?.tokenCounts, 'estimate');
    const [estimate] = await engine.countTokens(['Hello there, how are you today?']);
    assert.ok(estimate! >= 8, `an estimate that errs high (${estimate})`);
    const withFlag = new RemoteEngineClient({ url, apiKey: null, contextLength: 4096 });
    assert.equal((await withFlag.load('stall', { dtype: 'fp32', offline: false })).contextLength, 4096);

    const { text, done } = await collect(engine.generate('x', greedy));
    assert.equal(done.reason, 'error');
    assert.match(done.error!, /sent nothing for 0\.3 s/);
    assert.equal(text, 'hi'.padStart(3));
    // A chat turn's stream times out alike.
    const chat = await collect(engine.generate('User: x\nAssistant:', greedy, { messages: [{ role: 'user', content: 'x' }] }));
    assert.equal(chat.done.reason, 'error');
    assert.match(chat.done.error!, /sent nothing for 0\.3 s/);
    assert.equal(chat.text, ' hi');
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  const gone = new RemoteEngineClient({ url, apiKey: null });
  await assert.rejects(gone.load('stall', { dtype: 'fp32', offline: false }), {
    name: 'EngineError',
    message: /^cannot reach 127\.0\.0\.1:\d+/,
  });
});

function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, 'dist', 'src', 'cli.js'), ...args], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

test('parley --endpoint -p: the served reply on stdout; the session records endpoint and model, never the key', async () => {
  const env = { ...home.env, PARLEY_API_KEY: KEY };
  const args = ['--endpoint', serve.baseURL, '--model', 'tiny-random', '--max-tokens', '10', '--temperature', '0', '--repeat-penalty', '1'];
  const result = await runCli([...args, '-p', 'Hello there', '--session', 'remote'], env);
  assert.equal(result.code, 0, result.stderr);
  const api = new OpenAI({ baseURL: serve.baseURL, apiKey: KEY });
  const direct = await api.chat.completions.create({
    model: 'tiny-random',
    messages: [{ role: 'user', content: 'Hello there' }],
    max_tokens: 10,
    temperature: 0,
  });
  assert.equal(result.stdout.trim(), direct.choices[0]!.message.content);
  const saved = await readFile(path.join(env.PARLEY_SESSIONS_DIR, 'remote.json'), 'utf8');
  assert.equal((JSON.parse(saved) as { model: string }).model, `endpoint:tiny-random@${serve.baseURL}`);
  assert.ok(!saved.includes(KEY));

  const wrongKey = await runCli([...args, '-p', 'hi'], { ...env, PARLEY_API_KEY: 'wrong' });
  assert.equal(wrongKey.code, 1);
  assert.match(wrongKey.stderr, /^parley: 127\.0\.0\.1:\d+ answered 401: Incorrect or missing API key/);
  assert.equal(wrongKey.stderr.trim().split('\n').length, 1);
  const noModel = await runCli(['--endpoint', serve.baseURL, '-p', 'hi'], env);
  assert.equal(noModel.code, 2);
  assert.match(noModel.stderr, /--endpoint needs --model NAME/);
});
