// What a person sees of a download and of the hub: the one-shot progress line (only on a
// terminal), the chat's download bar with speed, /settings naming the hub and its source,
// and /model listing what is cached next to the aliases.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, afterEach, before, test } from 'node:test';
import { cleanup, render } from 'ink-testing-library';
import { runOneShot } from '../../src/cli/oneShot.js';
import { createEngine } from '../../src/engine/worker/workerEngineClient.js';
import type { LoadProgress } from '../../src/engine/protocol.js';
import { ModelLoading } from '../../src/ui/ModelLoading.js';
import { startLoading, withProgress } from '../../src/chat/view/loadingProgress.js';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { startTestHub, type TestHub } from '../helpers/testHub.js';
import { startChat } from '../helpers/uiFakes.js';

const GPT2_FIXTURE = path.join(REPO_ROOT, 'test', 'fixtures', 'hf-gpt2-tiny');
let hub: TestHub;
let root: string;
const savedEnv = { HF_ENDPOINT: process.env['HF_ENDPOINT'], PARLEY_CACHE_DIR: process.env['PARLEY_CACHE_DIR'] };

before(async () => {
  hub = await startTestHub({ repos: { 'fixtures/gpt2-tiny': GPT2_FIXTURE } });
  root = await mkdtemp(path.join(tmpdir(), 'parley-hubui-'));
  // The engine worker takes the hub from the environment, as the CLI's does.
  process.env['HF_ENDPOINT'] = hub.url;
});

afterEach(() => cleanup());

after(async () => {
  for (const [key, value] of Object.entries(savedEnv)) {
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  await hub.stop();
  await rm(root, { recursive: true, force: true });
});

class Sink {
  text = '';
  constructor(
    readonly isTTY: boolean,
    readonly columns = 100,
  ) {}
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

async function oneShot(cacheDir: string, stderr: Sink): Promise<{ code: number; stdout: string }> {
  const engine = createEngine({ cacheDir });
  const stdout = new Sink(false);
  try {
    const code = await runOneShot({
      engine,
      prompt: 'Hello',
      flags: { model: 'fixtures/gpt2-tiny', maxNewTokens: 3, temperature: 0 },
      stored: {},
      offline: false,
      stdout: stdout as unknown as NodeJS.WritableStream,
      stderr: stderr as unknown as NodeJS.WritableStream & { isTTY: boolean; columns: number },
      signal: new AbortController().signal,
    });
    return { code, stdout: stdout.text };
  } finally {
    await engine.dispose();
  }
}

test('one-shot: a progress line on stderr while downloading when stderr is a terminal, cleared before the reply; none when it is not', async () => {
  hub.behave('fixtures/gpt2-tiny', 'onnx/model.onnx', { bytesPerSecond: 8_000_000, times: 1 });
  const tty = new Sink(true);
  const first = await oneShot(path.join(root, 'cache-tty'), tty);
  assert.equal(first.code, 0, tty.text);
  assert.match(tty.text, /\r\x1b\[2Kdownloading onnx\/model\.onnx \[[█░]+\] +\d+% [\d.]+ [kM]B\/3\.2 MB/);
  assert.match(tty.text, /downloading onnx\/model\.onnx .*100% 3\.2 MB\/3\.2 MB/);
  assert.ok(tty.text.endsWith('\r\x1b[2K'), 'the line is cleared');

  const pipe = new Sink(false);
  const second = await oneShot(path.join(root, 'cache-pipe'), pipe);
  assert.equal(second.code, 0, pipe.text);
  assert.equal(pipe.text, '', 'nothing on a stderr that is not a terminal');
  assert.equal(second.stdout, first.stdout);
});

test('the chat shows a bar per file with its name, percent, bytes and speed, from the real download events', async () => {
  hub.behave('fixtures/gpt2-tiny', 'onnx/model.onnx', { bytesPerSecond: 4_000_000, times: 1 });
  const engine = createEngine({ cacheDir: path.join(root, 'cache-chat') });
  const events: LoadProgress[] = [];
  try {
    await engine.load('fixtures/gpt2-tiny', { dtype: 'fp32', offline: false }, (p) => events.push(p));
  } finally {
    await engine.dispose();
  }
  const midway = events.findIndex(
    (e) => e.kind === 'download' && e.file === 'onnx/model.onnx' && e.loaded > e.total / 3 && (e.bytesPerSecond ?? 0) > 0,
  );
  assert.ok(midway > 0, 'progress with a speed arrived during the transfer');
  const state = events.slice(0, midway + 1).reduce(withProgress, startLoading('fixtures/gpt2-tiny'));
  const { lastFrame } = render(<ModelLoading state={state} columns={100} />);
  const frame = lastFrame() ?? '';
  assert.match(frame, /config\.json \[█+\] 100% 798 B\/798 B/);
  assert.match(frame, /onnx\/model\.onnx \[[█░]+\] +\d+% [\d.]+ [kM]B\/3\.2 MB [\d.]+ [kM]B\/s/);
  assert.match(frame, /loading fixtures\/gpt2-tiny/);
});

test('/settings shows the hub in effect and where it comes from', async () => {
  const chat = await startChat({ engine: { fallback: { tokens: [' ok'] } } });
  await chat.waitFor('Model gpt2 ready');
  await chat.send('/settings');
  await chat.waitFor(new RegExp(`hubEndpoint +${hub.url.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} +\\(HF_ENDPOINT\\)`));
  delete process.env['HF_ENDPOINT'];
  try {
    await chat.send('/settings');
    await chat.waitFor(/hubEndpoint +https:\/\/huggingface\.co +\(default\)/);
  } finally {
    process.env['HF_ENDPOINT'] = hub.url;
  }
});

test('/model lists the aliases and the models in the cache with their dtypes and size', async () => {
  const cacheDir = path.join(root, 'cache-list');
  const repo = path.join(cacheDir, 'someone', 'tiny');
  await mkdir(path.join(repo, 'onnx'), { recursive: true });
  await writeFile(path.join(repo, 'config.json'), '{}');
  await writeFile(path.join(repo, 'onnx', 'model.onnx'), Buffer.alloc(3000));
  await writeFile(path.join(repo, 'onnx', 'model_quantized.onnx'), Buffer.alloc(1000));
  process.env['PARLEY_CACHE_DIR'] = cacheDir;
  const chat = await startChat({ engine: { fallback: { tokens: [' ok'] } } });
  await chat.waitFor('Model gpt2 ready');
  await chat.send('/model');
  await chat.waitFor(/Aliases:[\s\S]*gpt2 +Xenova\/gpt2[\s\S]*In the model cache \(.*cache-list\):[\s\S]*someone\/tiny +fp32,q8 +3\.9 kB/);
  await rm(cacheDir, { recursive: true, force: true });
  await chat.send('/model');
  await chat.waitFor(/Nothing in the model cache yet/);
});
