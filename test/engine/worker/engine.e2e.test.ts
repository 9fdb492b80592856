import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { createEngine, ENGINE_YOUNG_GENERATION_MB, type WorkerEngineClient } from '../../../src/engine/worker/workerEngineClient.js';
import { EngineError } from '../../../src/engine/engineClient.js';
import type { GenerateEvent, GenerateParams } from '../../../src/engine/protocol.js';
import { makeModelFolder } from '../../../src/graph/makeModelFolder.js';
import { TINY_MODEL_SHAPE, tinyModelDir } from '../../helpers/fixtures.js';
import { waitFor } from '../../helpers/waitFor.js';

let engine: WorkerEngineClient;
let modelDir: string;
let scratch: string;

const greedy: GenerateParams = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, maxNewTokens: 24, seed: null, minNewTokens: 24 };

async function collect(
  prompt: string,
  params: GenerateParams,
): Promise<{ deltas: string[]; ids: number[]; done: Extract<GenerateEvent, { type: 'done' }> }> {
  const deltas: string[] = [];
  const ids: number[] = [];
  let done: Extract<GenerateEvent, { type: 'done' }> | undefined;
  for await (const e of engine.generate(prompt, params)) {
    if (e.type === 'token') {
      deltas.push(e.text);
      if (e.tokenId >= 0) ids.push(e.tokenId);
    } else {
      assert.equal(done, undefined, 'exactly one done event');
      done = e;
    }
  }
  assert.ok(done, 'a done event ends the stream');
  return { deltas, ids, done };
}

before(async () => {
  modelDir = await tinyModelDir();
  scratch = await mkdtemp(path.join(os.tmpdir(), 'parley-engine-'));
  engine = createEngine({ cacheDir: path.join(scratch, 'cache') });
  const info = await engine.load(modelDir, { dtype: 'fp32', offline: true });
  assert.equal(info.contextLength, 1024);
  assert.equal(info.vocabSize, 50257);
  assert.deepEqual(info.eosTokenIds, [50256]);
  assert.equal(info.randomWeights, true);
});

after(async () => {
  await engine.dispose();
  await rm(scratch, { recursive: true, force: true });
});

test('streams tokens whose deltas concatenate to the final text', async () => {
  const { deltas, ids, done } = await collect('Hello, my name is', greedy);
  assert.equal(done.reason, 'length');
  assert.equal(done.generatedTokens, 24);
  assert.equal(ids.length, 24);
  assert.equal(deltas.join(''), done.text);
  assert.ok(done.text.length > 0);
  assert.ok(done.promptTokens > 0);
  assert.ok(done.tokensPerSecond > 0);
});

test('the engine thread runs with a small young generation', () => {
  assert.equal(engine.heapLimits?.maxYoungGenerationSizeMb, ENGINE_YOUNG_GENERATION_MB);
});

test('temperature 0 is deterministic, and a seed reproduces a sampled reply', async () => {
  const a = await collect('The weather today', greedy);
  const b = await collect('The weather today', greedy);
  assert.deepEqual(a.ids, b.ids);
  const sampled = { ...greedy, temperature: 1, topK: 50, topP: 0.95, seed: 1234 };
  const s1 = await collect('The weather today', sampled);
  const s2 = await collect('The weather today', sampled);
  const s3 = await collect('The weather today', { ...sampled, seed: 99 });
  assert.deepEqual(s1.ids, s2.ids);
  assert.equal(s1.done.text, s2.done.text);
  assert.notDeepEqual(s1.ids, s3.ids);
});

test('a stop sequence ends the reply and is cut from it', async () => {
  const full = await collect('Once upon a time', { ...greedy, maxNewTokens: 40, minNewTokens: 40 });
  const text = full.done.text;
  const stop = text.slice(Math.floor(text.length / 2), Math.floor(text.length / 2) + 3);
  const cut = await collect('Once upon a time', { ...greedy, maxNewTokens: 40, minNewTokens: 40, stop: [stop] });
  assert.equal(cut.done.reason, 'stop');
  assert.equal(cut.done.text, text.slice(0, text.indexOf(stop)));
  assert.equal(cut.deltas.join(''), cut.done.text);
  assert.ok(!cut.done.text.includes(stop));
});

test('cancel stops within one token and the engine keeps working', async () => {
  const stream = engine.generate('Tell me a long story', { ...greedy, maxNewTokens: 400, minNewTokens: 400 });
  let tokens = 0;
  let tokensAfterCancel = 0;
  let cancelled = false;
  let reason = '';
  for await (const e of stream) {
    if (e.type === 'token') {
      tokens++;
      if (cancelled) tokensAfterCancel++;
      if (tokens === 5) {
        engine.cancel();
        cancelled = true;
      }
    } else reason = e.reason;
  }
  assert.equal(reason, 'cancelled');
  // Tokens already on their way when cancel() was called are late events: dropped.
  assert.equal(tokensAfterCancel, 0);
  const again = await collect('Hi', { ...greedy, maxNewTokens: 4, minNewTokens: 4 });
  assert.equal(again.done.generatedTokens, 4);
});

test('a request over the context limit is refused with a clear error', async () => {
  const long = 'word '.repeat(1000);
  const { done } = await collect(long, { ...greedy, maxNewTokens: 128 });
  assert.equal(done.reason, 'error');
  assert.match(done.error ?? '', /exceeds the model's context of 1024 tokens/);
  assert.equal(done.generatedTokens, 0);
  const ok = await collect('Hi', { ...greedy, maxNewTokens: 2, minNewTokens: 2 });
  assert.equal(ok.done.reason, 'length');
});

test('countTokens and tokenize use the real GPT-2 tokenizer', async () => {
  const ids = await engine.tokenize(['Hello world', '']);
  assert.deepEqual(ids, [[15496, 995], []]);
  assert.deepEqual(await engine.countTokens(['Hello world', 'a b c']), [2, 3]);
});

test('a missing folder and a corrupt .onnx give clear errors; the loaded model stays usable', async () => {
  await assert.rejects(engine.load(path.join(scratch, 'nope'), { dtype: 'fp32', offline: true }), (err: unknown) => {
    assert.ok(err instanceof EngineError);
    assert.equal(err.code, 'model-not-found');
    assert.match(err.message, /model folder not found: .*nope/);
    return true;
  });
  const corrupt = path.join(scratch, 'corrupt');
  await cp(modelDir, corrupt, { recursive: true });
  await writeFile(path.join(corrupt, 'onnx', 'model.onnx'), 'this is not a protobuf at all');
  await assert.rejects(engine.load(corrupt, { dtype: 'fp32', offline: true }), (err: unknown) => {
    assert.ok(err instanceof EngineError);
    assert.equal(err.code, 'model-corrupt');
    assert.match(err.message, /not a valid ONNX model/);
    assert.ok(!err.message.includes('\n'));
    return true;
  });
  await assert.rejects(engine.load(modelDir, { dtype: 'q4', offline: true }), /has no onnx\/model_q4\.onnx/);
  assert.equal(engine.model?.modelId, modelDir);
  const ok = await collect('Still here?', { ...greedy, maxNewTokens: 3, minNewTokens: 3 });
  assert.equal(ok.done.generatedTokens, 3);
});

test("a tokenizer's chat template is reported with the model", async () => {
  assert.equal(engine.model?.chatTemplate, null, 'the plain GPT-2 tokenizer has none');
  const instruct = path.join(scratch, 'instruct');
  await cp(modelDir, instruct, { recursive: true });
  const configFile = path.join(instruct, 'tokenizer_config.json');
  const template = "{% for m in messages %}<|{{ m['role'] }}|>{{ m['content'] }}{% endfor %}";
  const config = JSON.parse(await readFile(configFile, 'utf8')) as Record<string, unknown>;
  await writeFile(configFile, JSON.stringify({ ...config, chat_template: template }));
  const info = await engine.load(instruct, { dtype: 'fp32', offline: true });
  assert.equal(info.hasChatTemplate, true);
  assert.deepEqual(info.chatTemplate, { template, bosToken: '<|endoftext|>', eosToken: '<|endoftext|>', specialTokens: ['<|endoftext|>'] });
  await engine.load(modelDir, { dtype: 'fp32', offline: true });
});

test('the q8 model loads and generates', async () => {
  const info = await engine.load(modelDir, { dtype: 'q8', offline: true });
  assert.equal(info.dtype, 'q8');
  const { done } = await collect('Quantized', { ...greedy, maxNewTokens: 5, minNewTokens: 5 });
  assert.equal(done.generatedTokens, 5);
  await engine.load(modelDir, { dtype: 'fp32', offline: true });
});

test('a graph with only the outputs hub exports have (no new_key_values) gives the same replies', async () => {
  // The decoder's fallback: present.* fetched and fed back, cut by the prefix cache too.
  const hubLike = path.join(scratch, 'hub-like');
  await makeModelFolder({ out: hubLike, ...TINY_MODEL_SHAPE, q8: false, newKeyValues: false });
  const session = await ort.InferenceSession.create(path.join(hubLike, 'onnx', 'model.onnx'));
  assert.deepEqual(
    session.outputNames.filter((name) => !name.startsWith('present.')),
    ['logits'],
  );
  await session.release();
  const prompts = ['The first question is', 'The first question is what comes next', 'The first answer was'];
  const replies = async (dir: string) => {
    const own = createEngine({ cacheDir: path.join(scratch, 'cache'), prefixCache: true });
    try {
      await own.load(dir, { dtype: 'fp32', offline: true });
      const out: { ids: number[]; reused: number }[] = [];
      for (const prompt of prompts) {
        const ids: number[] = [];
        let reused = -1;
        for await (const e of own.generate(prompt, { ...greedy, maxNewTokens: 8, minNewTokens: 8 })) {
          if (e.type === 'token' && e.tokenId >= 0) ids.push(e.tokenId);
          if (e.type === 'done') reused = e.reusedTokens ?? -1;
        }
        out.push({ ids, reused });
      }
      return out;
    } finally {
      await own.dispose();
    }
  };
  const viaPresent = await replies(hubLike);
  assert.deepEqual(viaPresent, await replies(modelDir));
  assert.ok(viaPresent[1]!.reused > 0 && viaPresent[2]!.reused > 0, 'the prefix cache was reused, cut back for the third');
});

test('the main thread keeps ticking during a long generation', async () => {
  let ticks = 0;
  let maxGap = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
    ticks++;
  }, 10);
  const started = performance.now();
  await collect('A long generation', { ...greedy, maxNewTokens: 300, minNewTokens: 300 });
  clearInterval(timer);
  const expected = (performance.now() - started) / 10;
  // Generating on this thread would starve the timer completely; a worker keeps it near 100 %.
  assert.ok(ticks >= expected * 0.5, `timer ticked ${ticks} of ~${expected.toFixed(0)} times`);
  assert.ok(maxGap < 250, `longest gap between ticks ${maxGap.toFixed(0)} ms`);
});

test('a crashed worker is reported, restarted, and the model reloaded', async () => {
  const crashes: string[] = [];
  const off = engine.onCrash((m) => crashes.push(m));
  // Terminating a thread while onnxruntime runs in it aborts the whole process (a native
  // exception), so the crash is staged between requests, where a JS fault would surface.
  await engine.kill();
  await waitFor(() => crashes.length > 0, { timeoutMs: 30_000, what: 'the crash report' });
  assert.equal(crashes.length, 1);
  assert.match(crashes[0]!, /engine crashed/);
  // The client restarts the worker and reloads the last model on its own; a request made
  // meanwhile waits for it.
  const ok = await collect('after the crash', { ...greedy, maxNewTokens: 3, minNewTokens: 3 });
  assert.equal(ok.done.reason, 'length');
  assert.equal(ok.done.generatedTokens, 3);
  assert.ok(engine.model, 'model reloaded after the crash');
  off();
});
