// Parley's decoder runs every file of test/fixtures/hub-smollm2 (the contrib-op form: GroupQueryAttention,
// MatMulNBits; fp16 files take and return a float16 KV cache) as it is, and its logits are the torch
// module's (the reference make_contrib_fixture.py wrote; for q4 files, the module with its projections
// dequantized from the same blocks): the prompt, then greedy steps fed one token with the cache. Also
// hub-smollm2-rotary's q4 file (separate projections, RotaryEmbedding nodes and a position_ids input).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { DecoderSession, inspectDecoderGraph } from '../../../src/engine/decode/decoderSession.js';
import { REPO_ROOT } from '../../helpers/fixtures.js';

const DIR = path.join(REPO_ROOT, 'test', 'fixtures', 'hub-smollm2');
interface Step {
  input_ids: number[];
  last_logits: string;
}
const REFERENCE = JSON.parse(readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'hub-smollm2-reference.json'), 'utf8')) as {
  steps: Step[];
  steps_q4: Step[];
};
const SHAPE = { layers: 2, kvHeads: 2, headDim: 16 };

const floats = (b64: string): Float32Array => {
  const bytes = Buffer.from(b64, 'base64');
  return new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
};

const ROTARY_DIR = path.join(REPO_ROOT, 'test', 'fixtures', 'hub-smollm2-rotary');
const CASES = [
  { dir: DIR, file: 'model.onnx', past: 'float32', q4: false, tolerance: 1e-4, positionIds: false },
  { dir: DIR, file: 'model_fp16.onnx', past: 'float16', q4: false, tolerance: 0.02, positionIds: false },
  { dir: DIR, file: 'model_q4.onnx', past: 'float32', q4: true, tolerance: 1e-4, positionIds: false },
  { dir: DIR, file: 'model_q4f16.onnx', past: 'float16', q4: true, tolerance: 0.02, positionIds: false },
  // RotaryEmbedding nodes read position_ids
  { dir: ROTARY_DIR, file: 'model_q4.onnx', past: 'float32', q4: true, tolerance: 1e-4, positionIds: true },
] as const;

describe('hub-smollm2 as it is, through the decoder', () => {
  for (const c of CASES) {
    test(`${path.basename(c.dir)}/${c.file}: ${c.past} KV cache, the torch logits at every step`, async () => {
      const session = await ort.InferenceSession.create(path.join(c.dir, 'onnx', c.file));
      try {
        const graph = inspectDecoderGraph(session, SHAPE);
        assert.equal(graph.pastType, c.past);
        // Without RotaryEmbedding nodes, GroupQueryAttention rotates by the mask's lengths.
        assert.equal(graph.hasPositionIds, c.positionIds);
        const decoder = new DecoderSession(session, graph, 256);
        assert.equal(decoder.cacheKind, 'present');
        let cache = decoder.emptyCache();
        for (const [i, step] of (c.q4 ? REFERENCE.steps_q4 : REFERENCE.steps).entries()) {
          const out = await decoder.forward(step.input_ids, cache);
          const want = floats(step.last_logits);
          assert.equal(out.logits.length, want.length);
          let worst = 0;
          for (let v = 0; v < want.length; v++) worst = Math.max(worst, Math.abs(out.logits[v]! - want[v]!));
          assert.ok(worst <= c.tolerance, `step ${i}: logits differ from torch's by ${worst}`);
          cache = out.cache;
        }
        assert.equal(cache.length, REFERENCE.steps[0]!.input_ids.length + REFERENCE.steps.length - 1);
      } finally {
        await session.release();
      }
    });
  }
});
