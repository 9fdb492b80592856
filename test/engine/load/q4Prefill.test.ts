// A q4 model's prompts through its q8 graph (PARLEY_Q4_PREFILL=q8): which file, which graphs
// may share a cache, and through the real loader, that the prompt's logits are the q8 graph's
// while the steps after it are the q4 graph's.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { loadModel, prefillFileFor } from '../../../src/engine/load/modelLoader.js';
import { canPrefillFor, type DecoderGraph } from '../../../src/engine/decode/decoderSession.js';
import type { Dtype } from '../../../src/engine/protocol.js';
import { tinyQ4ModelDir } from '../../helpers/fixtures.js';

const ASKED = { PARLEY_Q4_PREFILL: 'q8' };
const all = (): boolean => true;

test('the q8 file prefills only a q4 model, only when asked, and only when the folder has it', () => {
  assert.equal(prefillFileFor(ASKED, 'q4', '/m', all), path.join('/m', 'onnx', 'model_quantized.onnx'));
  assert.equal(prefillFileFor({}, 'q4', '/m', all), null);
  assert.equal(prefillFileFor({ PARLEY_Q4_PREFILL: 'fp32' }, 'q4', '/m', all), null);
  for (const dtype of ['fp32', 'q8', 'fp16', 'q4f16'] as const) assert.equal(prefillFileFor(ASKED, dtype, '/m', all), null, dtype);
  assert.equal(
    prefillFileFor(ASKED, 'q4', '/m', (file) => file !== 'onnx/model_quantized.onnx'),
    null,
  );
});

const graph = (change: Partial<DecoderGraph> = {}): DecoderGraph => ({
  pastInputs: [{ key: 'past_key_values.0.key', value: 'past_key_values.0.value' }],
  presentOutputs: [{ key: 'present.0.key', value: 'present.0.value' }],
  pastType: 'float32',
  heads: 2,
  headDim: 8,
  hasPositionIds: true,
  hasAttentionMask: true,
  hasLogitsToKeep: true,
  hasUseCacheBranch: false,
  rowOutputs: [{ key: 'new_key_values.0.key', value: 'new_key_values.0.value' }],
  ...change,
});

test('a graph prefills for another only with the same cache layout, both on the rows path', () => {
  assert.equal(canPrefillFor(graph(), graph()), true);
  assert.equal(canPrefillFor(graph(), graph({ heads: 4 })), false);
  assert.equal(canPrefillFor(graph(), graph({ headDim: 16 })), false);
  assert.equal(canPrefillFor(graph(), graph({ pastType: 'float16' })), false);
  assert.equal(canPrefillFor(graph(), graph({ rowOutputs: null })), false);
  assert.equal(canPrefillFor(graph({ rowOutputs: null }), graph({ rowOutputs: null })), false);
  assert.equal(canPrefillFor(graph(), graph({ pastInputs: [{ key: 'past.0.k', value: 'past.0.v' }] })), false);
  assert.equal(canPrefillFor(graph(), graph({ hasUseCacheBranch: true })), false);
});

after(() => {
  delete process.env['PARLEY_Q4_PREFILL'];
});

/** The logits of a 6-token prompt, then of two greedy steps after it. */
async function run(folder: string, dtype: Dtype): Promise<{ rows: Float32Array[]; prefillFile: string | undefined }> {
  const model = await loadModel({ kind: 'folder', path: folder }, { dtype, offline: true, cacheDir: os.tmpdir() }, () => {});
  try {
    const rows: Float32Array[] = [];
    let step = await model.decoder.forward([464, 2068, 7586, 21831, 18045, 625], model.decoder.emptyCache());
    rows.push(step.logits);
    for (const id of [262, 16931]) {
      step = await model.decoder.forward([id], step.cache);
      rows.push(step.logits);
    }
    return { rows, prefillFile: model.info.prefillFile };
  } finally {
    await model.release();
  }
}

test("through the loader: the prompt's logits are the q8 graph's, the steps after it the q4 graph's", async () => {
  const folder = await tinyQ4ModelDir();
  delete process.env['PARLEY_Q4_PREFILL'];
  const q8 = await run(folder, 'q8');
  const q4 = await run(folder, 'q4');
  assert.equal(q4.prefillFile, undefined);
  process.env['PARLEY_Q4_PREFILL'] = 'q8';
  const mixed = await run(folder, 'q4');
  assert.equal(mixed.prefillFile, path.join(folder, 'onnx', 'model_quantized.onnx'));
  assert.deepEqual(mixed.rows[0], q8.rows[0]);
  assert.notDeepEqual(mixed.rows[0], q4.rows[0]);
  // A step reads the q8 graph's cache but multiplies by the q4 weights: neither run's logits.
  for (const i of [1, 2]) {
    assert.notDeepEqual(mixed.rows[i], q8.rows[i]);
    assert.notDeepEqual(mixed.rows[i], q4.rows[i]);
  }
});
