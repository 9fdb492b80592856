// Parley's graph built from the contrib-op Llama export (test/fixtures/hub-smollm2: GroupQueryAttention,
// SkipSimplifiedLayerNormalization, packed q/k/v, a separate head copy of the tied embedding), read by
// llamaContribExport.ts: it gives the export's logits over a prompt and cached steps, q8 and q4 pass the
// probe, and through loadModel the converted graph replies like the export run as it is.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { prepareGraph, type PrepareOptions } from '../../../src/engine/load/convertedGraph.js';
import { compareGraphs, probePrompt } from '../../../src/engine/load/graphProbe.js';
import type { Dtype } from '../../../src/engine/protocol.js';
import { greedyThroughLoader } from '../../helpers/greedyThroughLoader.js';
import { REPO_ROOT } from '../../helpers/fixtures.js';

const FIXTURE = path.join(REPO_ROOT, 'test', 'fixtures', 'hub-smollm2');
/** 2 layers, 4 heads, 2 KV heads of width 16, vocabulary 2051. */
const KV = { heads: 2, headDim: 16 };

let scratch: string;
before(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'parley-convert-contrib-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

function options(cacheDir: string, dtype: Dtype = 'fp32'): PrepareOptions {
  return { sourceFolder: FIXTURE, ref: FIXTURE, isHub: false, cacheDir, dtype, noConvert: false, onProgress: () => {} };
}

function greedy(dtype: Dtype, noConvert: boolean, cacheDir: string, steps: number) {
  return greedyThroughLoader(FIXTURE, { dtype, noConvert, cacheDir }, [2049, 84, 325, 198, 40], steps);
}

describe('Parley graph from a contrib-op (GroupQueryAttention) Llama export', () => {
  test("fp32: the converted graph gives the export's logits over a prompt and cached steps", async () => {
    const choice = await prepareGraph(options(path.join(scratch, 'cache-fp32')));
    assert.ok(choice?.folder, choice?.info.note);
    assert.equal(choice.info.converted, true);
    const stats = await compareGraphs(
      path.join(FIXTURE, 'onnx', 'model.onnx'),
      path.join(choice.folder, 'onnx', 'model.onnx'),
      probePrompt(2051, 24),
      {
        steps: 8,
        ...KV,
      },
    );
    assert.ok(stats.maxAbsDiff < 1e-4, `max |Δlogit| ${stats.maxAbsDiff}`);
    assert.equal(stats.top1, 1);
  });

  test('q8 and q4 are built from the fp32 file and pass the probe against the export', async () => {
    for (const dtype of ['q8', 'q4'] as const) {
      const choice = await prepareGraph(options(path.join(scratch, `cache-${dtype}`), dtype));
      assert.ok(choice?.folder, choice?.info.note);
      assert.equal(choice.info.converted, true, choice.info.note);
    }
  });

  test('through loadModel: the converted graph runs on the rows path and replies like the export run as it is', async () => {
    const cacheDir = path.join(scratch, 'cache-load');
    const converted = await greedy('fp32', false, cacheDir, 12);
    const asIs = await greedy('fp32', true, cacheDir, 12);
    assert.equal(converted.kind, 'rows');
    assert.equal(converted.info.graph?.converted, true);
    assert.equal(asIs.kind, 'present');
    assert.deepEqual(converted.ids, asIs.ids);
  });
});
