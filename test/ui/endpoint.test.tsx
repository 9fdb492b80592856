// A model on a server (--endpoint), through the real UI on the scripted engine: the status
// bar and the ready notice say where it runs, not a dtype it does not have.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanup, render } from 'ink-testing-library';
import type { LoadOptions, LoadProgress, ModelInfo } from '../../src/engine/protocol.js';
import type { StatusInfo } from '../../src/chat/view/statusInfo.js';
import { StatusBar } from '../../src/ui/StatusBar.js';
import { startChat, UiFakeEngine } from '../helpers/uiFakes.js';
import { waitUntil } from '../helpers/waitFor.js';

afterEach(() => cleanup());

/** The scripted engine, loading `endpoint:` refs as the remote client reports them. */
class EndpointFakeEngine extends UiFakeEngine {
  override async load(modelRef: string, options: LoadOptions, onProgress?: (p: LoadProgress) => void): Promise<ModelInfo> {
    const info = await super.load(modelRef, options, onProgress);
    if (!modelRef.startsWith('endpoint:')) return info;
    const name = modelRef.slice('endpoint:'.length);
    this.model = {
      ...info,
      modelId: modelRef,
      endpoint: { url: 'http://gpu-box:8000/v1', name, contextFrom: 'server', tokenCounts: 'server' },
    };
    return this.model;
  }
}

const statusLine = (frame: string): string =>
  frame
    .split('\n')
    .filter((l) => l.includes('top-k'))
    .join(' ');

test('the status bar shows the server a remote model runs on instead of a dtype', async () => {
  const engine = new EndpointFakeEngine({ delayMs: 1, contextLength: 4096, fallback: { tokens: [' hi'] } });
  const chat = await startChat({ engineClient: engine, flags: { model: 'endpoint:Qwen/Qwen2.5-7B-Instruct' } });
  await chat.waitFor('Model Qwen/Qwen2.5-7B-Instruct on gpu-box:8000 ready (4096 tokens of context).');
  const line = await waitUntil(
    () => statusLine(chat.frame()),
    (s) => s.includes('gpu-box'),
    3000,
    'the host in the status bar',
  );
  assert.match(line, /Qwen\/Qwen2\.5-7B-Instruct on gpu-box:8000/);
  assert.doesNotMatch(line, /fp32|q8|fp16/);

  // /context shows the messages the server gets, not a prompt text it never sees.
  await chat.send('hello there');
  await chat.waitFor('hi');
  await chat.send('/context');
  await chat.waitFor("The window as sent to gpu-box:8000: 3 messages, which the server formats with the model's chat template:");
  await chat.waitFor('[user] hello there');
  await chat.waitFor('[assistant] hi');

  // Back to a local model: its dtype again.
  await chat.send('/model gpt2');
  await waitUntil(
    () => statusLine(chat.frame()),
    (s) => s.includes('gpt2 fp32'),
    3000,
    'the local model with its dtype',
  );
  assert.doesNotMatch(statusLine(chat.frame()), /gpu-box/);
});

test('StatusBar renders the host for a remote model and the dtype for a local one', () => {
  const info: StatusInfo = {
    model: 'llama3',
    dtype: 'fp32',
    endpointHost: '10.0.0.5:8080',
    randomWeights: false,
    tokensUsed: 10,
    contextLength: 8192,
    params: { temperature: 0.7, topK: 40, topP: 0.9, repetitionPenalty: 1.1, maxNewTokens: 64, seed: null },
    sessionName: 's',
    tokensPerSecond: null,
    turnsOutOfContext: 0,
  };
  const remote = render(<StatusBar info={info} />).lastFrame() ?? '';
  assert.match(remote, /llama3 on 10\.0\.0\.5:8080/);
  assert.doesNotMatch(remote, /fp32/);
  const local = render(<StatusBar info={{ ...info, model: 'gpt2', endpointHost: null }} />).lastFrame() ?? '';
  assert.match(local, /gpt2 fp32/);
});
