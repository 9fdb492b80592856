// Parley's graph built from the plain Optimum Llama and Qwen2 exports (test/fixtures/hf-llama-tiny,
// hf-qwen2-tiny): weights found by following the graph, checked on the probe, and giving the
// export's logits (fp32 tightly; q8 and q4 within the probe's limits) and its greedy replies
// through loadModel on the rows path.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { prepareGraph, type PrepareOptions } from '../../../src/engine/load/convertedGraph.js';
import { compareGraphs, probePrompt } from '../../../src/engine/load/graphProbe.js';
import type { Dtype } from '../../../src/engine/protocol.js';
import { greedyThroughLoader } from '../../helpers/greedyThroughLoader.js';
import { HF_LLAMA_TINY, HF_QWEN2_TINY } from '../../helpers/fixtures.js';

let scratch: string;
before(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'parley-convert-llama-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

function options(sourceFolder: string, cacheDir: string, dtype: Dtype = 'fp32', extra: Partial<PrepareOptions> = {}): PrepareOptions {
  return { sourceFolder, ref: sourceFolder, isHub: false, cacheDir, dtype, noConvert: false, onProgress: () => {}, ...extra };
}

/** Both fixtures: 2 layers, 4 heads, 2 KV heads of width 4. */
const KV = { heads: 2, headDim: 4 };

function greedy(folder: string, dtype: Dtype, noConvert: boolean, cacheDir: string, steps: number) {
  return greedyThroughLoader(folder, { dtype, noConvert, cacheDir }, [464, 2068, 7586, 21831, 18045], steps);
}

for (const [label, fixture] of [
  ['Llama (llama3 rope scaling)', HF_LLAMA_TINY],
  ['Qwen2 (q/k/v biases)', HF_QWEN2_TINY],
] as const) {
  describe(`Parley graph from a plain ${label} export`, () => {
    test("fp32: the converted graph gives the export's logits over a prompt and cached steps; the stamp is reused", async () => {
      const cache = path.join(scratch, `cache-fp32-${path.basename(fixture)}`);
      const progress: string[] = [];
      const choice = await prepareGraph(
        options(fixture, cache, 'fp32', { onProgress: (p) => progress.push(p.kind === 'converting' ? p.stage : p.kind) }),
      );
      assert.ok(choice?.folder, choice?.info.note);
      assert.equal(choice.info.converted, true);
      assert.deepEqual([...new Set(progress)], ['reading', 'building', 'checking']);
      const stats = await compareGraphs(
        path.join(fixture, 'onnx', 'model.onnx'),
        path.join(choice.folder, 'onnx', 'model.onnx'),
        probePrompt(50259, 24),
        {
          steps: 8,
          ...KV,
        },
      );
      assert.ok(stats.maxAbsDiff < 1e-4, `max |Δlogit| ${stats.maxAbsDiff}`);
      assert.equal(stats.top1, 1);
      const again = await prepareGraph(options(fixture, cache));
      assert.equal(again?.folder, choice.folder);
      assert.equal(again?.info.convertedNow, undefined);
    });

    test('q8 and q4 are built from the fp32 file and pass the probe against the export', async () => {
      for (const dtype of ['q8', 'q4'] as const) {
        const choice = await prepareGraph(options(fixture, path.join(scratch, `cache-${dtype}-${path.basename(fixture)}`), dtype));
        assert.ok(choice?.folder, choice?.info.note);
        assert.equal(choice.info.converted, true, choice.info.note);
      }
    });

    test('the weights are found by structure: renamed initializers convert the same', async () => {
      const folder = path.join(scratch, `renamed-${path.basename(fixture)}`);
      await cp(fixture, folder, { recursive: true });
      const file = path.join(folder, 'onnx', 'model.onnx');
      const text = (await readFile(file)).toString('latin1');
      assert.ok(text.includes('model.layers.'));
      await writeFile(file, Buffer.from(text.split('model.layers.').join('qzqzqz.qzqzq.'), 'latin1'));
      const choice = await prepareGraph(options(folder, path.join(scratch, `cache-renamed-${path.basename(fixture)}`)));
      assert.equal(choice?.info.converted, true, choice?.info.note);
    });

    test('a config.json that does not match the weights runs the export as is, with the reason', async () => {
      const folder = path.join(scratch, `wrong-${path.basename(fixture)}`);
      await cp(fixture, folder, { recursive: true });
      const config = JSON.parse(await readFile(path.join(folder, 'config.json'), 'utf8')) as Record<string, unknown>;
      config['num_key_value_heads'] = 4;
      await writeFile(path.join(folder, 'config.json'), JSON.stringify(config));
      const choice = await prepareGraph(options(folder, path.join(scratch, `cache-wrong-${path.basename(fixture)}`)));
      assert.equal(choice?.folder, null);
      assert.match(choice?.info.note ?? '', /not one Parley recognises as Llama-family \(block 0: k_proj is 16x8, not 16x16[;)]/);
    });

    test('through loadModel: the converted graph runs on the rows path and replies like the export; --no-convert runs it as is', async () => {
      const cacheDir = path.join(scratch, `cache-load-${path.basename(fixture)}`);
      const converted = await greedy(fixture, 'fp32', false, cacheDir, 12);
      const asIs = await greedy(fixture, 'fp32', true, cacheDir, 12);
      assert.equal(converted.kind, 'rows');
      assert.equal(converted.info.graph?.converted, true);
      assert.equal(asIs.kind, 'present');
      assert.equal(asIs.info.graph?.converted, false);
      assert.deepEqual(converted.ids, asIs.ids);
    });
  });
}
