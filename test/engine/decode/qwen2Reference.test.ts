// The Qwen2 export's logits against an independent TypeScript forward pass, through Parley's
// own decoder: a prompt prefilled in chunks, then cached steps (the KV cache with 2 KV heads
// for 4 query heads, and rotary positions taken from position_ids).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { DecoderSession, inspectDecoderGraph } from '../../../src/engine/decode/decoderSession.js';
import { kvShape } from '../../../src/engine/load/modelConfig.js';
import { HF_QWEN2_TINY } from '../../helpers/fixtures.js';
import { readOnnx } from '../../helpers/onnxInitializers.js';
import { qwen2ConfigOf, qwen2Reference, qwen2WeightsFromOnnx } from '../../helpers/qwen2Reference.js';

test("hf-qwen2-tiny: the graph's logits match the TypeScript reference, prefill in chunks and cached steps", async () => {
  const file = path.join(HF_QWEN2_TINY, 'onnx', 'model.onnx');
  const configJson = JSON.parse(readFileSync(path.join(HF_QWEN2_TINY, 'config.json'), 'utf8')) as Record<string, unknown>;
  const config = qwen2ConfigOf(configJson);
  const { bytes, initializers } = readOnnx(file);
  const weights = qwen2WeightsFromOnnx(bytes, initializers, config);

  const session = await ort.InferenceSession.create(file);
  const graph = inspectDecoderGraph(session, kvShape(configJson)!);
  assert.equal(graph.heads, 2, 'two KV heads');
  assert.equal(graph.headDim, 4);
  const decoder = new DecoderSession(session, graph, 256);

  const ids = [50257, 882, 198, 15496, 11, 995, 0, 50258, 198, 50257, 562, 10167, 198, 40, 716, 257, 3303, 13];
  const expected = qwen2Reference(weights, config, ids);
  const worst = { diff: 0 };
  const check = (logits: Float32Array, position: number): void => {
    const row = expected[position]!;
    for (let t = 0; t < row.length; t++) worst.diff = Math.max(worst.diff, Math.abs(logits[t]! - row[t]!));
  };
  // The first 12 ids in two passes, then one id per step.
  let step = await decoder.forward(ids.slice(0, 7), decoder.emptyCache());
  check(step.logits, 6);
  step = await decoder.forward(ids.slice(7, 12), step.cache);
  check(step.logits, 11);
  for (let i = 12; i < ids.length; i++) {
    step = await decoder.forward([ids[i]!], step.cache);
    check(step.logits, i);
  }
  assert.ok(worst.diff < 1e-5, `largest difference ${worst.diff}`);
  // Not vacuous: the reference's logits do vary.
  const last = expected.at(-1)!;
  assert.ok(Math.max(...last) - Math.min(...last) > 0.01);
  await session.release();
});
