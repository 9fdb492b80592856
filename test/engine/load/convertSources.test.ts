// Parley's graph built from each kind of file a model folder may hold (test/fixtures/hub-smollm2, the
// contrib-op form: fp32, fp16 with a float16 KV cache, q4 MatMulNBits, q4f16), alone in a folder: each
// converts for the dtypes it is a source of, its logits close to the file run as it is and its greedy
// replies equal; a q4 graph from the q4 file keeps its blocks; the best file present is used, and a graph
// built from a lesser one is built again when a better one appears. The plain form's q4, fp16 and
// q4f16 files (hf-qwen2-tiny-q4, hf-llama-tiny-q4, hf-*-tiny-fp16) likewise.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, cp, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type ConvertStamp, prepareGraph } from '../../../src/engine/load/convertedGraph.js';
import { compareGraphs, probePrompt } from '../../../src/engine/load/graphProbe.js';
import { loadModel } from '../../../src/engine/load/modelLoader.js';
import type { Dtype } from '../../../src/engine/protocol.js';
import { greedyThroughLoader } from '../../helpers/greedyThroughLoader.js';
import { REPO_ROOT } from '../../helpers/fixtures.js';

const FIXTURE = path.join(REPO_ROOT, 'test', 'fixtures', 'hub-smollm2');
/** 2 layers, 4 heads, 2 KV heads of width 16, vocabulary 2051; 7 projections a layer. */
const KV = { heads: 2, headDim: 16 };
const PROMPT = [2049, 84, 325, 198, 40];

let scratch: string;
before(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'parley-convert-sources-'));
});
after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

/** A copy of the fixture with only the given ONNX files. */
async function folderWith(name: string, files: readonly string[]): Promise<string> {
  const folder = path.join(scratch, name);
  await cp(FIXTURE, folder, { recursive: true, filter: (source) => !source.endsWith('.onnx') || files.includes(path.basename(source)) });
  return folder;
}

// The cache beside the scratch copies, never beside a fixture (the repository stays as it is).
function prepare(folder: string, dtype: Dtype, cacheDir = path.join(scratch, `${path.basename(folder)}-cache`)) {
  return prepareGraph({ sourceFolder: folder, ref: folder, isHub: false, cacheDir, dtype, noConvert: false, onProgress: () => {} });
}

/** The converted graph's logits against the source file's own, over a prompt and cached steps. */
async function againstSource(source: string, converted: string) {
  return compareGraphs(source, converted, probePrompt(2051, 24), { steps: 8, ...KV });
}

async function convertsAll(folder: string, dtypes: readonly ('fp32' | 'q8' | 'q4')[], from: string): Promise<Map<string, string>> {
  const built = new Map<string, string>();
  for (const dtype of dtypes) {
    const choice = await prepare(folder, dtype);
    assert.ok(choice?.folder, `${dtype}: ${choice?.info.note}`);
    assert.equal(choice.info.converted, true);
    assert.match(choice.info.note, new RegExp(`converted from onnx/${from.replace('.', '\\.')}`), dtype);
    built.set(dtype, choice.folder);
  }
  return built;
}

describe('Parley graph from each source file of a contrib-op export', () => {
  test('q4 file alone: q8 and q4 are built from it, q4 keeping its blocks and very close to it; fp32 runs it as it is, saying why', async () => {
    const folder = await folderWith('only-q4', ['model_q4.onnx']);
    const source = path.join(folder, 'onnx', 'model_q4.onnx');
    const built = await convertsAll(folder, ['q8', 'q4'], 'model_q4.onnx');
    const q4 = await prepare(folder, 'q4');
    assert.match(q4!.info.note, /its 4-bit blocks kept for 14 projections/);
    const kept = await againstSource(source, path.join(built.get('q4')!, 'onnx', 'model_q4.onnx'));
    // Same blocks: what differs is the int8 embedding/head and int8 activations of Parley's q4.
    assert.ok(kept.top1 >= 0.95 && kept.meanKl < 2e-3, `q4 from q4: top-1 ${kept.top1}, KL ${kept.meanKl}`);
    const q8 = await againstSource(source, path.join(built.get('q8')!, 'onnx', 'model_quantized.onnx'));
    assert.ok(q8.top1 >= 0.85 && q8.meanKl < 5e-3, `q8 from q4: top-1 ${q8.top1}, KL ${q8.meanKl}`);

    const fp32 = await prepare(folder, 'fp32');
    assert.equal(fp32?.folder, null);
    assert.match(fp32!.info.note, /^the export as it is: Parley builds its fp32 graph from one of model\.onnx, model_fp16\.onnx/);
  });

  test('q4 file alone, through loadModel: the q4 graph replies as the file run as it is; with no dtype chosen, Parley builds q4', async () => {
    const folder = await folderWith('only-q4-load', ['model_q4.onnx']);
    const cacheDir = path.join(scratch, 'only-q4-load-cache');
    const converted = await greedyThroughLoader(folder, { dtype: 'q4', noConvert: false, cacheDir }, PROMPT, 10);
    const asIs = await greedyThroughLoader(folder, { dtype: 'q4', noConvert: true, cacheDir }, PROMPT, 10);
    assert.equal(converted.kind, 'rows');
    assert.equal(asIs.kind, 'present');
    assert.deepEqual(converted.ids, asIs.ids);

    const model = await loadModel(
      { kind: 'folder', path: folder },
      { dtype: 'fp32', dtypeIsDefault: true, offline: true, cacheDir },
      () => {},
    );
    try {
      assert.equal(model.info.dtype, 'q4');
      assert.equal(model.info.graph?.converted, true, model.info.graph?.note);
      assert.equal(model.decoder.cacheKind, 'rows');
    } finally {
      await model.release();
    }
  });

  test('the best file present is the source; a graph built from a lesser one is built again when a better one appears', async () => {
    const folder = await folderWith('grows', ['model_q4.onnx']);
    const cacheDir = path.join(scratch, 'grows-cache');
    const first = await prepare(folder, 'q8', cacheDir);
    assert.match(first!.info.note, /converted from onnx\/model_q4\.onnx/);
    const again = await prepare(folder, 'q8', cacheDir);
    assert.equal(again?.info.convertedNow, undefined, 'reused while the source is the same');
    await copyFile(path.join(FIXTURE, 'onnx', 'model.onnx'), path.join(folder, 'onnx', 'model.onnx'));
    const better = await prepare(folder, 'q8', cacheDir);
    assert.equal(better?.info.convertedNow, true);
    assert.match(better!.info.note, /converted from onnx\/model\.onnx in/);
    const stamp = JSON.parse(await readFile(path.join(better!.folder!, 'parley-converted.json'), 'utf8')) as ConvertStamp;
    assert.equal(stamp.source.file, path.join(folder, 'onnx', 'model.onnx'));
    // All four files: every dtype from the fp32 file.
    const full = await convertsAll(FIXTURE, ['fp32', 'q8', 'q4'], 'model.onnx');
    assert.equal(full.size, 3);
  });
});

for (const arch of ['qwen2', 'llama'] as const) {
  describe(`Parley graph from the plain ${arch} export's q4 file (MatMulNBits, hf-${arch}-tiny-q4)`, () => {
    const folder = path.join(REPO_ROOT, 'test', 'fixtures', `hf-${arch}-tiny-q4`);
    const source = path.join(folder, 'onnx', 'model_q4.onnx');
    const prompt = [464, 2068, 7586, 21831, 18045];

    test('q8 and q4 are built from it, q4 keeping its 14 projections’ blocks, close to it and replying as it does', async () => {
      const cacheDir = path.join(scratch, `plain-${arch}-q4`);
      for (const dtype of ['q8', 'q4'] as const) {
        const choice = await prepare(folder, dtype, cacheDir);
        assert.equal(choice?.info.converted, true, choice?.info.note);
        assert.match(choice!.info.note, /converted from onnx\/model_q4\.onnx/);
        if (dtype === 'q4') assert.match(choice!.info.note, /its 4-bit blocks kept for 14 projections/);
        const file = path.join(choice!.folder!, 'onnx', dtype === 'q4' ? 'model_q4.onnx' : 'model_quantized.onnx');
        const stats = await compareGraphs(source, file, probePrompt(50000, 24), { steps: 8, heads: 2, headDim: 4 });
        assert.ok(stats.meanKl < 5e-3, `${dtype} from q4: top-1 ${stats.top1}, KL ${stats.meanKl}`);
      }
      const converted = await greedyThroughLoader(folder, { dtype: 'q4', noConvert: false, cacheDir }, prompt, 10);
      const asIs = await greedyThroughLoader(folder, { dtype: 'q4', noConvert: true, cacheDir }, prompt, 10);
      assert.equal(converted.kind, 'rows');
      assert.deepEqual(converted.ids, asIs.ids);
      const fp32 = await prepare(folder, 'fp32', cacheDir);
      assert.equal(fp32?.folder, null);
      assert.match(fp32!.info.note, /builds its fp32 graph from one of model\.onnx, model_fp16\.onnx/);
    });
  });
}

for (const arch of ['qwen2', 'llama'] as const) {
  describe(`Parley graph from the plain ${arch} export's float16 files (hf-${arch}-tiny-fp16)`, () => {
    const fixture = path.join(REPO_ROOT, 'test', 'fixtures', `hf-${arch}-tiny-fp16`);
    const prompt = [464, 2068, 7586, 21831, 18045];
    const plainKv = { heads: 2, headDim: 4 };

    test('float16 KV cache: fp32, q8 and q4 are built from model_fp16, fp32 within float16 rounding of it and replying as it does', async () => {
      const built = new Map<string, string>();
      for (const dtype of ['fp32', 'q8', 'q4'] as const) {
        const choice = await prepare(fixture, dtype, path.join(scratch, `plain-${arch}-fp16`));
        assert.equal(choice?.info.converted, true, choice?.info.note);
        assert.match(choice!.info.note, /converted from onnx\/model_fp16\.onnx/);
        built.set(dtype, choice!.folder!);
      }
      const source = path.join(fixture, 'onnx', 'model_fp16.onnx');
      const stats = await compareGraphs(source, path.join(built.get('fp32')!, 'onnx', 'model.onnx'), probePrompt(50000, 24), {
        steps: 8,
        ...plainKv,
      });
      assert.ok(stats.maxAbsDiff < 2e-2 && stats.top1 === 1, `fp32 from fp16: max |Δlogit| ${stats.maxAbsDiff}, top-1 ${stats.top1}`);
      const cacheDir = path.join(scratch, `plain-${arch}-fp16-load`);
      const converted = await greedyThroughLoader(fixture, { dtype: 'fp32', noConvert: false, cacheDir }, prompt, 10);
      const asIs = await greedyThroughLoader(fixture, { dtype: 'fp16', noConvert: true, cacheDir }, prompt, 10);
      assert.equal(converted.kind, 'rows');
      assert.deepEqual(converted.ids, asIs.ids);
    });

    test('float16 KV cache: model_q4f16 alone gives q4 (blocks kept) and q8, close to it', async () => {
      const folder = path.join(scratch, `plain-${arch}-only-q4f16`);
      await cp(fixture, folder, { recursive: true, filter: (f) => !f.endsWith('model_fp16.onnx') });
      const source = path.join(folder, 'onnx', 'model_q4f16.onnx');
      for (const dtype of ['q8', 'q4'] as const) {
        const choice = await prepare(folder, dtype);
        assert.equal(choice?.info.converted, true, choice?.info.note);
        assert.match(choice!.info.note, /converted from onnx\/model_q4f16\.onnx/);
        if (dtype === 'q4') assert.match(choice!.info.note, /its 4-bit blocks kept for 14 projections/);
        const file = path.join(choice!.folder!, 'onnx', dtype === 'q4' ? 'model_q4.onnx' : 'model_quantized.onnx');
        const stats = await compareGraphs(source, file, probePrompt(50000, 24), { steps: 8, ...plainKv });
        assert.ok(stats.meanKl < 5e-3, `${dtype} from q4f16: top-1 ${stats.top1}, KL ${stats.meanKl}`);
      }
    });
  });
}

describe('Parley graph from the float16 files (float16 KV cache)', () => {
  test('float16 KV cache: the fp16 file alone converts to fp32, q8 and q4; fp32 gives its logits within float16 rounding and its greedy replies', async () => {
    const folder = await folderWith('only-fp16', ['model_fp16.onnx']);
    const built = await convertsAll(folder, ['fp32', 'q8', 'q4'], 'model_fp16.onnx');
    const stats = await againstSource(path.join(folder, 'onnx', 'model_fp16.onnx'), path.join(built.get('fp32')!, 'onnx', 'model.onnx'));
    assert.ok(stats.maxAbsDiff < 1e-2 && stats.top1 === 1, `fp32 from fp16: max |Δlogit| ${stats.maxAbsDiff}, top-1 ${stats.top1}`);
    const cacheDir = path.join(scratch, 'only-fp16-load');
    const converted = await greedyThroughLoader(folder, { dtype: 'fp32', noConvert: false, cacheDir }, PROMPT, 10);
    const asIs = await greedyThroughLoader(folder, { dtype: 'fp16', noConvert: true, cacheDir }, PROMPT, 10);
    assert.equal(converted.kind, 'rows');
    assert.deepEqual(converted.ids, asIs.ids);
    // No dtype chosen: the fp16 file's weights in Parley's fp32 graph (float32 KV cache).
    const model = await loadModel(
      { kind: 'folder', path: folder },
      { dtype: 'fp32', dtypeIsDefault: true, offline: true, cacheDir },
      () => {},
    );
    try {
      assert.equal(model.info.dtype, 'fp32');
      assert.match(model.info.graph!.note, /converted from onnx\/model_fp16\.onnx/);
    } finally {
      await model.release();
    }
  });

  test('float16 KV cache: the q4f16 file alone converts to q8 and q4 (blocks kept), replying as it does run as it is', async () => {
    const folder = await folderWith('only-q4f16', ['model_q4f16.onnx']);
    const built = await convertsAll(folder, ['q8', 'q4'], 'model_q4f16.onnx');
    const q4 = await prepare(folder, 'q4');
    assert.match(q4!.info.note, /its 4-bit blocks kept for 14 projections/);
    const stats = await againstSource(path.join(folder, 'onnx', 'model_q4f16.onnx'), path.join(built.get('q4')!, 'onnx', 'model_q4.onnx'));
    assert.ok(stats.top1 >= 0.9 && stats.meanKl < 5e-3, `q4 from q4f16: top-1 ${stats.top1}, KL ${stats.meanKl}`);
    const cacheDir = path.join(scratch, 'only-q4f16-load');
    await mkdir(cacheDir, { recursive: true });
    const converted = await greedyThroughLoader(folder, { dtype: 'q4', noConvert: false, cacheDir }, PROMPT, 10);
    const asIs = await greedyThroughLoader(folder, { dtype: 'q4f16', noConvert: true, cacheDir }, PROMPT, 10);
    assert.equal(converted.kind, 'rows');
    assert.deepEqual(converted.ids, asIs.ids);
  });
});
