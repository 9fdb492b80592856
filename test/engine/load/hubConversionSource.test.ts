// q8 for a hub repository that publishes no 8-bit file (SmolLM2-Instruct, served by the local test
// hub from test/fixtures/hub-smollm2): the fp32 file Parley builds q8 from is fetched instead; offline,
// a source already in the cache is used; a model Parley does not convert, or --no-convert, still
// gets the repository's own error.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ensureHubModelOrSource } from '../../../src/engine/load/hubConversionSource.js';
import { prepareGraph } from '../../../src/engine/load/convertedGraph.js';
import { HubError } from '../../../src/hub/hubError.js';
import { REPO_ROOT } from '../../helpers/fixtures.js';
import { startTestHub, type TestHub } from '../../helpers/testHub.js';

const SMOLLM2 = path.join(REPO_ROOT, 'test', 'fixtures', 'hub-smollm2');
const REPO = 'HuggingFaceTB/SmolLM2-tiny';
let hub: TestHub;
let root: string;

before(async () => {
  hub = await startTestHub({ repos: { [REPO]: SMOLLM2 } });
  root = await mkdtemp(path.join(tmpdir(), 'parley-hub-source-'));
});
after(async () => {
  await hub.stop();
  await rm(root, { recursive: true, force: true });
});

const ensure = (cacheDir: string, dtype: 'q8' | 'q4', extra: { offline?: boolean; noConvert?: boolean } = {}) =>
  ensureHubModelOrSource({ cacheDir, endpoint: hub.url, repoId: REPO, dtype, offline: false, noConvert: false, ...extra });

test('q8 of a repository without an 8-bit file: its fp32 file is fetched, and Parley builds q8 from it', async () => {
  const cacheDir = path.join(root, 'online');
  const folder = await ensure(cacheDir, 'q8');
  assert.ok(existsSync(path.join(folder, 'onnx', 'model.onnx')));
  assert.ok(existsSync(path.join(folder, 'tokenizer.json')));
  assert.equal(existsSync(path.join(folder, 'onnx', 'model_quantized.onnx')), false);
  const choice = await prepareGraph({
    sourceFolder: folder,
    ref: REPO,
    isHub: true,
    cacheDir,
    dtype: 'q8',
    noConvert: false,
    onProgress: () => {},
  });
  assert.equal(choice?.info.converted, true, choice?.info.note);
  assert.match(choice!.info.note, /converted from onnx\/model\.onnx/);
});

test('offline: a source already in the cache serves; with none, or with --no-convert, the repository’s own error', async () => {
  const cacheDir = path.join(root, 'offline');
  // Only the q4 file in the cache.
  await ensureHubModelOrSource({ cacheDir, endpoint: hub.url, repoId: REPO, dtype: 'q4', offline: false, noConvert: false });
  assert.equal(existsSync(path.join(cacheDir, REPO, 'onnx', 'model.onnx')), false);
  const folder = await ensure(cacheDir, 'q8', { offline: true });
  assert.ok(existsSync(path.join(folder, 'onnx', 'model_q4.onnx')));
  await assert.rejects(
    ensure(cacheDir, 'q8', { offline: true, noConvert: true }),
    (err) => err instanceof HubError && err.code === 'not-cached',
  );
  await assert.rejects(
    ensure(path.join(root, 'empty'), 'q8', { offline: true }),
    (err) => err instanceof HubError && err.code === 'not-cached',
  );
  await assert.rejects(
    ensure(path.join(root, 'no-convert'), 'q8', { noConvert: true }),
    (err) => err instanceof HubError && err.code === 'not-found',
  );
});
