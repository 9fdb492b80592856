// Parley's graph built from a hub-style GPT-2 export (test/fixtures/hf-gpt2-tiny): found by
// following the export's graph, checked on the probe, cached with a stamp, and giving the
// same logits and replies as running the export directly (Llama-family exports: convertLlama.test.ts);
// a structure that is not GPT-2's, or a graph that does not match, runs the export as is.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cp, mkdtemp, readFile, readdir, rename, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { prepareGraph, type PrepareOptions } from '../../../src/engine/load/convertedGraph.js';
import { compareGraphs, probePrompt } from '../../../src/engine/load/graphProbe.js';
import { loadModel } from '../../../src/engine/load/modelLoader.js';
import type { Dtype } from '../../../src/engine/protocol.js';
import { greedyThroughLoader } from '../../helpers/greedyThroughLoader.js';
import { REPO_ROOT } from '../../helpers/fixtures.js';
import { makeVariant } from '../../helpers/fixtureVariants.js';
import { listCachedModels } from '../../../src/hub/cachedModels.js';
import { formatStats } from '../../../src/chat/commands/reports.js';

const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures');
const GPT2 = path.join(FIXTURES, 'hf-gpt2-tiny');

let scratch: string;
before(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'parley-convert-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

function options(sourceFolder: string, cacheDir: string, dtype: Dtype = 'fp32', extra: Partial<PrepareOptions> = {}): PrepareOptions {
  return { sourceFolder, ref: sourceFolder, isHub: false, cacheDir, dtype, noConvert: false, onProgress: () => {}, ...extra };
}

/** A copy of the GPT-2 fixture with every occurrence of `from` in model.onnx replaced (same length). */
async function patchedCopy(name: string, from: string, to: string, config?: (c: Record<string, unknown>) => void): Promise<string> {
  assert.equal(from.length, to.length);
  const folder = path.join(scratch, name);
  await cp(GPT2, folder, { recursive: true });
  const file = path.join(folder, 'onnx', 'model.onnx');
  const bytes = await readFile(file);
  const text = bytes.toString('latin1');
  assert.ok(text.includes(from), `${from} occurs in the fixture`);
  await writeFile(file, Buffer.from(text.split(from).join(to), 'latin1'));
  if (config) {
    const json = JSON.parse(await readFile(path.join(folder, 'config.json'), 'utf8')) as Record<string, unknown>;
    config(json);
    await writeFile(path.join(folder, 'config.json'), JSON.stringify(json));
  }
  return folder;
}

/** Greedy ids from a fixed prompt through loadModel's decoder, and what ran them. */
function greedyRun(folder: string, dtype: Dtype, noConvert: boolean, cacheDir: string, steps: number) {
  return greedyThroughLoader(folder, { dtype, noConvert, cacheDir }, [464, 2068, 7586, 21831], steps);
}

describe('Parley graph from a GPT-2 export', () => {
  test("fp32: the converted graph gives the export's logits over a prompt and cached steps", async () => {
    const cache = path.join(scratch, 'cache-fp32');
    const progress: string[] = [];
    const choice = await prepareGraph(
      options(GPT2, cache, 'fp32', { onProgress: (p) => progress.push(p.kind === 'converting' ? p.stage : p.kind) }),
    );
    assert.ok(choice?.folder, choice?.info.note);
    assert.equal(choice.info.converted, true);
    assert.equal(choice.info.convertedNow, true);
    assert.deepEqual([...new Set(progress)], ['reading', 'building', 'checking']);
    assert.match(choice.folder, /[/\\]converted[/\\]folder--hf-gpt2-tiny--[0-9a-f]{12}[/\\]rows-fp32$/);

    const stats = await compareGraphs(
      path.join(GPT2, 'onnx', 'model.onnx'),
      path.join(choice.folder, 'onnx', 'model.onnx'),
      probePrompt(50257, 20),
      {
        steps: 6,
        heads: 2,
        headDim: 8,
      },
    );
    assert.ok(stats.maxAbsDiff < 1e-5, `max |Δlogit| ${stats.maxAbsDiff}`);
    assert.equal(stats.top1, 1);

    // The stamp makes the second load reuse the graph; a touched but identical file too.
    const again = await prepareGraph(options(GPT2, cache));
    assert.equal(again?.folder, choice.folder);
    assert.equal(again?.info.convertedNow, undefined);
    const stamp = JSON.parse(await readFile(path.join(choice.folder, 'parley-converted.json'), 'utf8'));
    assert.match(stamp.source.sha256, /^[0-9a-f]{64}$/);
    assert.equal(stamp.dtypes.fp32.ok, true);
    const config = JSON.parse(await readFile(path.join(choice.folder, 'config.json'), 'utf8'));
    assert.equal(config.parley_converted.sha256, stamp.source.sha256);
  });

  test('the weights are found by structure: renamed initializers and nodes convert the same', async () => {
    const renamed = await patchedCopy('renamed', 'transformer.', 'qzqzqzqzqzq.');
    const choice = await prepareGraph(options(renamed, path.join(scratch, 'cache-renamed')));
    assert.equal(choice?.info.converted, true, choice?.info.note);
  });

  test('a structure that is not GPT-2 (ReLU MLP) runs the export as is, with the reason, and is remembered', async () => {
    const relu = await patchedCopy('relu', 'Tanh', 'Relu');
    const cache = path.join(scratch, 'cache-relu');
    const choice = await prepareGraph(options(relu, cache));
    assert.equal(choice?.folder, null);
    assert.equal(choice?.info.converted, false);
    assert.match(choice!.info.note, /export as it is: .*not one Parley recognises.*GELU/);
    const again = await prepareGraph(options(relu, cache));
    assert.equal(again?.info.note, choice!.info.note);
  });

  test('a converted graph that does not match the export (wrong n_head in config.json) is not used', async () => {
    const wrong = await patchedCopy('wrong-heads', 'transformer.', 'transformer.', (c) => {
      c['n_head'] = 4;
    });
    const choice = await prepareGraph(options(wrong, path.join(scratch, 'cache-wrong')));
    assert.equal(choice?.folder, null);
    assert.match(choice!.info.note, /failed its check against it: max \|Δlogit\|/);
  });

  test('q8 and q4 convert from the fp32 file and pass the probe against the export', async () => {
    const cache = path.join(scratch, 'cache-quantized');
    for (const dtype of ['q8', 'q4'] as const) {
      const choice = await prepareGraph(options(GPT2, cache, dtype));
      assert.equal(choice?.info.converted, true, choice?.info.note);
      assert.match(choice!.info.note, /top-1 \d+\.\d %, mean KL/);
    }
  });

  test('--no-convert, and other dtypes, run the export as is', async () => {
    const off = await prepareGraph(options(GPT2, path.join(scratch, 'cache-off'), 'fp32', { noConvert: true }));
    assert.deepEqual(off, { folder: null, info: { converted: false, note: 'the export as it is (conversion off)' } });
    const fp16 = await prepareGraph(options(GPT2, path.join(scratch, 'cache-off'), 'fp16'));
    assert.equal(fp16?.folder, null);
  });

  test('a folder with only an 8-bit file: q8 and q4 are built from it, fp32 runs it as is and says why', async () => {
    const folder = path.join(scratch, 'only-quantized');
    await cp(GPT2, folder, { recursive: true });
    await rename(path.join(folder, 'onnx', 'model.onnx'), path.join(folder, 'onnx', 'model_quantized.onnx'));
    for (const dtype of ['q8', 'q4'] as const) {
      const choice = await prepareGraph(options(folder, path.join(scratch, 'cache-only-quantized'), dtype));
      assert.equal(choice?.info.converted, true, choice?.info.note);
      assert.match(choice!.info.note, /converted from onnx\/model_quantized\.onnx/);
    }
    const fp32 = await prepareGraph(options(folder, path.join(scratch, 'cache-only-quantized'), 'fp32'));
    assert.equal(fp32?.folder, null);
    assert.match(
      fp32!.info.note,
      /builds its fp32 graph from one of model\.onnx, model_fp16\.onnx \(under onnx\/, or the decoder_model_merged names\), which this model does not have/,
    );
  });

  test('larger weights (std 0.25): the q4 the user asked for is built; the probe judges the structure, not the quantization', async () => {
    const variant = makeVariant(GPT2, { weightScale: 12.5 });
    try {
      const choice = await prepareGraph(options(variant.dir, path.join(scratch, 'cache-std025'), 'q4'));
      assert.equal(choice?.info.converted, true, choice?.info.note);
    } finally {
      variant.remove();
    }
  });

  test('a variant that fails its probe is refused with the check that failed, its figures and what to use; no empty folder stays', async () => {
    // Weights 50 times the fixture's: 4-bit blocks lose the peaks, and the KL passes 0.5.
    const variant = makeVariant(GPT2, { weightScale: 50 });
    const cacheDir = path.join(scratch, 'cache-rejected');
    try {
      await assert.rejects(
        loadModel({ kind: 'folder', path: variant.dir }, { dtype: 'q4', offline: true, cacheDir }, () => {}),
        (err: Error) => {
          assert.match(
            err.message,
            /Parley's q4 graph built from onnx\/model\.onnx failed its check against it: top-1 [\d.]+ %, mean KL [\d.e+-]+ over 40 positions \(needs top-1 ≥ 40 %, KL ≤ 0\.5; failed: KL above 0\.5\); use --dtype q8 or --dtype fp32 instead$/,
          );
          assert.doesNotMatch(err.message, /has no onnx\/model_q4\.onnx/);
          return true;
        },
      );
      const variantDir = path.join(cacheDir, 'converted');
      const [folder] = await readdir(variantDir);
      assert.deepEqual(await readdir(path.join(variantDir, folder!, 'rows-q4')), ['parley-converted.json']);
      // Asked again, the remembered verdict gives the same answer without building.
      await assert.rejects(
        loadModel({ kind: 'folder', path: variant.dir }, { dtype: 'q4', offline: true, cacheDir }, () => {}),
        /failed: KL above 0\.5/,
      );
      // q8 of the same weights passes.
      const q8 = await prepareGraph(options(variant.dir, cacheDir, 'q8'));
      assert.equal(q8?.info.converted, true, q8?.info.note);
    } finally {
      variant.remove();
    }
  });

  test("a hub repository's graph goes under its cache folder, where parley models lists it", async () => {
    const cache = path.join(scratch, 'cache-hub');
    const repo = path.join(cache, 'someone', 'gpt2-tiny');
    await cp(GPT2, repo, { recursive: true });
    const choice = await prepareGraph(options(repo, cache, 'fp32', { ref: 'someone/gpt2-tiny', isHub: true }));
    assert.equal(choice?.folder, path.join(repo, 'parley-converted', 'rows-fp32'));
    const listed = (await listCachedModels(cache)).find((m) => m.id === 'someone/gpt2-tiny');
    assert.deepEqual(
      listed?.converted.map((c) => c.variant),
      ['rows-fp32'],
    );
  });

  test('an architecture Parley has no graph of its own for is left unconverted', async () => {
    const other = await patchedCopy('other-arch', 'transformer.', 'transformer.', (c) => {
      c['model_type'] = 'phi3';
    });
    assert.equal(await prepareGraph(options(other, path.join(scratch, 'cache-other'))), null);
  });

  test('through loadModel: the converted graph runs on the rows path and replies like the export', async () => {
    const cacheDir = path.join(scratch, 'cache-load');
    const greedy = async (noConvert: boolean) => {
      const run = await greedyRun(GPT2, 'fp32', noConvert, cacheDir, 10);
      return { ids: run.ids, kind: run.kind, graph: run.info.graph };
    };
    const converted = await greedy(false);
    const asIs = await greedy(true);
    assert.equal(converted.kind, 'rows');
    assert.equal(converted.graph?.converted, true);
    assert.equal(asIs.kind, 'present');
    assert.equal(asIs.graph?.converted, false);
    assert.deepEqual(converted.ids, asIs.ids);
  });

  test('a touched source file with the same bytes keeps the converted graph', async () => {
    const folder = path.join(scratch, 'touched');
    await cp(GPT2, folder, { recursive: true });
    const cache = path.join(scratch, 'cache-touched');
    await prepareGraph(options(folder, cache));
    const later = new Date(Date.now() + 5000);
    await utimes(path.join(folder, 'onnx', 'model.onnx'), later, later);
    const again = await prepareGraph(options(folder, cache));
    assert.equal(again?.info.converted, true);
    assert.equal(again?.info.convertedNow, undefined);
  });
});

describe('Parley graph from the files the hub serves (test/fixtures/hub-gpt2, hub-distilgpt2)', () => {
  const HUB_GPT2 = path.join(FIXTURES, 'hub-gpt2');
  const HUB_DISTIL = path.join(FIXTURES, 'hub-distilgpt2');

  const greedy = (folder: string, dtype: Dtype, noConvert: boolean, cacheDir: string) => greedyRun(folder, dtype, noConvert, cacheDir, 8);

  test('the merged gpt2 layout converts (with-past branch, Gemm, no position_ids) and replies as the export does; /stats names the source', async () => {
    const cacheDir = path.join(scratch, 'cache-hub-gpt2');
    const converted = await greedy(HUB_GPT2, 'fp32', false, cacheDir);
    const asIs = await greedy(HUB_GPT2, 'fp32', true, cacheDir);
    assert.equal(converted.kind, 'rows');
    assert.equal(asIs.kind, 'present');
    assert.deepEqual(converted.ids, asIs.ids);
    assert.match(converted.info.graph!.note, /^Parley's \(converted from onnx\/model\.onnx in [\d.]+ s; probe: max \|Δlogit\| /);
    const stats = formatStats({ persona: null, turns: [] }, converted.info.graph);
    assert.match(stats, /Graph: Parley's \(converted from onnx\/model\.onnx/);
  });

  test('the pre-v3 names: decoder_model_merged.onnx converts, and runs as it is with --no-convert', async () => {
    const cacheDir = path.join(scratch, 'cache-hub-distil');
    const converted = await greedy(HUB_DISTIL, 'fp32', false, cacheDir);
    const asIs = await greedy(HUB_DISTIL, 'fp32', true, cacheDir);
    assert.equal(converted.kind, 'rows');
    assert.match(converted.info.graph!.note, /converted from onnx\/decoder_model_merged\.onnx/);
    assert.equal(asIs.info.dtype, 'fp32');
    assert.deepEqual(converted.ids, asIs.ids);
    // The 8-bit file as it is, through transformers.js's model_file_name.
    const eight = await greedy(HUB_DISTIL, 'q8', true, cacheDir);
    assert.equal(eight.info.dtype, 'q8');
    assert.equal(eight.kind, 'present');
  });

  test('q8 and q4 are built from the merged fp32 file; without it, q8 is built from the 8-bit file and checked against it', async () => {
    for (const [folder, eightBit] of [
      [HUB_GPT2, 'model_quantized.onnx'],
      [HUB_DISTIL, 'decoder_model_merged_quantized.onnx'],
    ] as const) {
      const cache = path.join(scratch, `cache-hub-q-${path.basename(folder)}`);
      for (const dtype of ['q8', 'q4'] as const) {
        const choice = await prepareGraph(options(folder, cache, dtype));
        assert.equal(choice?.info.converted, true, choice?.info.note);
        assert.doesNotMatch(choice!.info.note, /quantized/);
      }
      const only = path.join(scratch, `only-8bit-${path.basename(folder)}`);
      await cp(folder, only, { recursive: true });
      const fp32 = (await readdir(path.join(only, 'onnx'))).filter((f) => !f.includes('quantized'));
      for (const f of fp32) await rm(path.join(only, 'onnx', f));
      const choice = await prepareGraph(options(only, path.join(scratch, `cache-only-8bit-${path.basename(folder)}`), 'q8'));
      assert.equal(choice?.info.converted, true, choice?.info.note);
      assert.match(
        choice!.info.note,
        new RegExp(`converted from onnx/${eightBit.replace('.', '\\.')} in [\\d.]+ s; probe: top-1 (9\\d|100)\\.\\d %`),
      );
      const replies = await greedy(only, 'q8', false, path.join(scratch, `cache-only-8bit-${path.basename(folder)}`));
      assert.equal(replies.kind, 'rows');
      assert.equal(replies.info.dtype, 'q8');
    }
  });
});
