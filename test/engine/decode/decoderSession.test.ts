// The two ways the decoder carries the KV cache give the same logits: the rows path (Parley's
// own buffers, fed back without a copy; graphs with new_key_values.* outputs) and the present
// path every hub export takes. Checked through a prefill, single steps across several
// capacity steps of the row buffers, a cut back to a shorter prefix, and a second prefill;
// and a prompt longer than one prefill chunk.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { DecoderSession, inspectDecoderGraph, PREFILL_CHUNK } from '../../../src/engine/decode/decoderSession.js';
import { type KvCache, truncateKvCache } from '../../../src/engine/decode/kvCache.js';
import { ROW_CAPACITY_STEP } from '../../../src/engine/decode/kvGrowth.js';
import { makeModelFolder } from '../../../src/graph/makeModelFolder.js';
import { TINY_MODEL_SHAPE, tinyModelDir } from '../../helpers/fixtures.js';

const SHAPE = { layers: TINY_MODEL_SHAPE.layers, kvHeads: TINY_MODEL_SHAPE.heads, headDim: TINY_MODEL_SHAPE.embd / TINY_MODEL_SHAPE.heads };
const PROMPT = [464, 2068, 7586, 21831, 18045, 625, 262];

let scratch: string;
before(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'parley-decoder-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

function maxDiff(a: Float32Array, b: Float32Array): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

/** Runs the same script on both paths and compares every step's logits. */
async function compare(file: string, tolerance: number): Promise<void> {
  const session = await ort.InferenceSession.create(file);
  const graph = inspectDecoderGraph(session, SHAPE);
  assert.notEqual(graph.rowOutputs, null, 'the generated graph offers new_key_values outputs');
  const rows = new DecoderSession(session, graph, TINY_MODEL_SHAPE.positions);
  const present = new DecoderSession(session, graph, TINY_MODEL_SHAPE.positions, { rows: false });
  assert.equal(rows.cacheKind, 'rows');
  assert.equal(present.cacheKind, 'present');

  let a: KvCache = rows.emptyCache();
  let b: KvCache = present.emptyCache();
  const step = async (ids: number[], label: string): Promise<void> => {
    const x = await rows.forward(ids, a);
    const y = await present.forward(ids, b);
    assert.equal(x.cache.length, y.cache.length);
    assert.ok(maxDiff(x.logits, y.logits) <= tolerance, `${label}: logits differ by ${maxDiff(x.logits, y.logits)}`);
    a = x.cache;
    b = y.cache;
  };
  await step(PROMPT, 'prefill');
  // Past two capacity steps, so the row buffers are laid out anew twice on the way.
  for (let i = 0; a.length < 2 * ROW_CAPACITY_STEP + 5; i++) await step([(i * 131) % 50000], `step ${i}`);
  a = truncateKvCache(a, 20);
  b = truncateKvCache(b, 20);
  await step([11, 12, 13, 14], 'prefill after a cut');
  await step([15], 'step after a cut');
  await session.release();
}

describe('decoder KV cache paths', () => {
  test('fp32: rows and present agree', async () => {
    await compare(path.join(await tinyModelDir(), 'onnx', 'model.onnx'), 1e-4);
  });

  test('q8: rows and present agree', async () => {
    await compare(path.join(await tinyModelDir(), 'onnx', 'model_quantized.onnx'), 1e-4);
  });

  test('float16 KV cache: rows and present agree', async () => {
    const folder = path.join(scratch, 'fp16kv');
    await makeModelFolder({ out: folder, ...TINY_MODEL_SHAPE, q8: false, kvCache: 'float16' });
    await compare(path.join(folder, 'onnx', 'model.onnx'), 1e-4);
  });

  test('a prompt longer than one prefill chunk gives the logits of feeding it token by token', async () => {
    const session = await ort.InferenceSession.create(path.join(await tinyModelDir(), 'onnx', 'model.onnx'));
    const decoder = new DecoderSession(session, inspectDecoderGraph(session, SHAPE), TINY_MODEL_SHAPE.positions);
    const ids = Array.from({ length: 2 * PREFILL_CHUNK + 17 }, (_, i) => (i * 977) % 50000);
    const whole = await decoder.forward(ids, decoder.emptyCache());
    assert.equal(whole.cache.length, ids.length);
    let cache = decoder.emptyCache();
    let last: Float32Array | null = null;
    for (const id of ids) ({ logits: last, cache } = await decoder.forward([id], cache));
    assert.ok(maxDiff(whole.logits, last!) <= 1e-4, `differ by ${maxDiff(whole.logits, last!)}`);
    await session.release();
  });

  test('a prefill asked to stop ends between chunks with the part that went through', async () => {
    const session = await ort.InferenceSession.create(path.join(await tinyModelDir(), 'onnx', 'model.onnx'));
    const decoder = new DecoderSession(session, inspectDecoderGraph(session, SHAPE), TINY_MODEL_SHAPE.positions);
    const ids = Array.from({ length: 3 * PREFILL_CHUNK }, (_, i) => (i * 977) % 50000);
    let asked = 0;
    const stopped = await decoder.prefill(ids, decoder.emptyCache(), () => ++asked >= 2);
    assert.equal(stopped.logits, null);
    assert.equal(stopped.cache.length, 2 * PREFILL_CHUNK, 'two chunks in, then the stop');
    // The part that went through is a cache like any other: the rest continues from it.
    const rest = await decoder.forward(ids.slice(2 * PREFILL_CHUNK), stopped.cache);
    const whole = await decoder.forward(ids, decoder.emptyCache());
    assert.ok(maxDiff(rest.logits, whole.logits) <= 1e-4);
    await session.release();
  });

  test('a graph without new_key_values outputs takes the present path', async () => {
    // Hub exports declare only present.*: the check must fall back, never fail.
    const session = await ort.InferenceSession.create(path.join(await tinyModelDir(), 'onnx', 'model.onnx'));
    const graph = { ...inspectDecoderGraph(session, SHAPE), rowOutputs: null };
    const decoder = new DecoderSession(session, graph, TINY_MODEL_SHAPE.positions);
    assert.equal(decoder.cacheKind, 'present');
    const { cache } = await decoder.forward(PROMPT, decoder.emptyCache());
    assert.equal(cache.kind, 'present');
    await session.release();
  });
});
