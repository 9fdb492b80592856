// The real WorkerEngineClient against a worker that fails on cue (helpers/scriptedWorker):
// error replies end open streams, crashes end them too, reloads are reported, and a worker
// that keeps crashing is given up after a few restarts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EngineError } from '../../../src/engine/engineClient.js';
import type { GenerateEvent, GenerateParams, ModelInfo } from '../../../src/engine/protocol.js';
import { MAX_RESTARTS, WorkerEngineClient } from '../../../src/engine/worker/workerEngineClient.js';
import { waitFor } from '../../helpers/waitFor.js';

const WORKER = new URL('../../helpers/scriptedWorker.js', import.meta.url);
const params: GenerateParams = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, maxNewTokens: 8, seed: 1 };
const options = { dtype: 'fp32', offline: true } as const;

function client(): WorkerEngineClient {
  return new WorkerEngineClient({ cacheDir: tmpdir(), workerUrl: WORKER });
}

async function collect(engine: WorkerEngineClient, prompt: string): Promise<GenerateEvent[]> {
  const events: GenerateEvent[] = [];
  for await (const event of engine.generate(prompt, params)) events.push(event);
  return events;
}

test('an error reply to a generate request ends its stream with the message', async () => {
  const engine = client();
  try {
    await engine.load('ok', options);
    const events = await collect(engine, 'throw');
    const done = events.at(-1);
    assert.equal(done?.type, 'done');
    assert.equal(done?.type === 'done' && done.reason, 'error');
    assert.equal(done?.type === 'done' && done.error, 'prefix cache broke');
    // The engine still works afterwards.
    const next = await collect(engine, 'hello');
    assert.equal(next.at(-1)?.type === 'done' && next.at(-1)?.type === 'done' ? (next.at(-1) as { reason: string }).reason : null, 'eos');
  } finally {
    await engine.dispose();
  }
});

test('a crash mid-reply ends the stream, clears the model and reloads it; the reload is reported', async () => {
  const engine = client();
  try {
    await engine.load('ok-model', options);
    const reloads: Promise<ModelInfo | null>[] = [];
    engine.onCrash((_message, reload) => reloads.push(reload));
    const events = await collect(engine, 'die');
    const done = events.at(-1);
    assert.equal(done?.type === 'done' && done.reason, 'error');
    assert.match(done?.type === 'done' ? (done.error ?? '') : '', /engine crashed.*restarting it/);
    assert.equal(reloads.length, 1);
    const model = await reloads[0];
    assert.equal(model?.modelId, 'ok-model');
    assert.equal(engine.model?.modelId, 'ok-model');
  } finally {
    await engine.dispose();
  }
});

test(`a worker that crashes on every reload is restarted at most ${MAX_RESTARTS} times, then given up until the next load`, async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'parley-restarts-'));
  const engine = client();
  try {
    await engine.load(`count:${path.join(dir, 'loads')}`, options);
    const outcomes: Promise<string>[] = [];
    engine.onCrash((_message, reload) =>
      outcomes.push(
        reload.then(
          (m) => `reloaded ${m?.modelId}`,
          (e: unknown) => (e instanceof EngineError ? e.message : String(e)),
        ),
      ),
    );
    await collect(engine, 'die');
    // Each reload crashes the new worker; the client stops after the allowed restarts.
    await waitFor(() => outcomes.length > MAX_RESTARTS, { timeoutMs: 10_000, what: `${MAX_RESTARTS + 1} crash reports` });
    const last = await outcomes.at(-1)!;
    assert.match(last, /crashed 4 times within a minute, so it is stopped; \/model loads a model and starts it again/);
    // Given up, the client runs no worker, so nothing is left that could crash and be reported.
    assert.equal(outcomes.length, MAX_RESTARTS + 1, 'one crash report per crash, and no more');
    const ended = await collect(engine, 'hello');
    assert.equal(ended.at(-1)?.type === 'done' && (ended.at(-1) as { reason: string }).reason, 'error');
    await assert.rejects(engine.countTokens(['x']), /stopped/);
    assert.equal(outcomes.length, MAX_RESTARTS + 1, 'no report after the client gave up');
    // /model starts it again.
    const info = await engine.load('ok-again', options);
    assert.equal(info.modelId, 'ok-again');
    assert.equal((await collect(engine, 'hello')).length, 3);
  } finally {
    await engine.dispose();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a failed load keeps the loaded model', async () => {
  const engine = client();
  try {
    await engine.load('ok-first', options);
    await assert.rejects(engine.load('fail-second', options), /fail-second is broken/);
    assert.equal(engine.model?.modelId, 'ok-first');
  } finally {
    await engine.dispose();
  }
});
