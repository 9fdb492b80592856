// Parley's own download of hub models, in-process, against the local test hub: the files
// land complete or not at all, a cut transfer resumes, a missing dtype names what exists,
// and a cached model needs no request.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { ensureHubModel } from '../../src/hub/ensureHubModel.js';
import { HubError } from '../../src/hub/hubError.js';
import { DEFAULT_HUB_ENDPOINT, hubFileUrl, resolveHubEndpoint } from '../../src/hub/hubEndpoint.js';
import { dtypeOfFile, dtypesIn, externalDataFiles, modelFilesFor } from '../../src/hub/modelFiles.js';
import { listRepoDtypes } from '../../src/hub/repoDtypes.js';
import { downloadFile } from '../../src/hub/downloadFile.js';
import { SpeedMeter } from '../../src/hub/speedMeter.js';
import { validateSetting } from '../../src/settings/settingsSchema.js';
import { REPO_ROOT, tinyModelDir } from '../helpers/fixtures.js';
import { startTestHub, type TestHub } from '../helpers/testHub.js';

const GPT2_FIXTURE = path.join(REPO_ROOT, 'test', 'fixtures', 'hf-gpt2-tiny');
const LLAMA_FIXTURE = path.join(REPO_ROOT, 'test', 'fixtures', 'hf-llama-tiny');
let hub: TestHub;
let mirror: TestHub;
let root: string;
let generated: string;

before(async () => {
  generated = await tinyModelDir();
  const repos = { 'fixtures/gpt2-tiny': GPT2_FIXTURE, 'fixtures/llama-tiny': LLAMA_FIXTURE, 'parley/tiny-random': generated };
  hub = await startTestHub({ repos });
  mirror = await startTestHub({ repos, api: false });
  root = await mkdtemp(path.join(tmpdir(), 'parley-hub-'));
});

after(async () => {
  await hub.stop();
  await mirror.stop();
  await rm(root, { recursive: true, force: true });
});

let n = 0;
const freshCache = (): string => path.join(root, `cache-${++n}`);
const ensure = (cacheDir: string, repoId: string, extra: Partial<Parameters<typeof ensureHubModel>[0]> = {}) =>
  ensureHubModel({ cacheDir, endpoint: hub.url, repoId, dtype: 'fp32', offline: false, ...extra });

async function sameBytes(a: string, b: string): Promise<void> {
  assert.ok((await readFile(a)).equals(await readFile(b)), `${a} differs from ${b}`);
}

test('hub address: HF_ENDPOINT beats the setting, which beats huggingface.co; the setting is checked', () => {
  assert.deepEqual(resolveHubEndpoint({ env: {}, setting: null }), { url: DEFAULT_HUB_ENDPOINT, source: 'default' });
  assert.deepEqual(resolveHubEndpoint({ env: {}, setting: 'https://mirror.example/' }), {
    url: 'https://mirror.example',
    source: 'settings',
  });
  assert.deepEqual(resolveHubEndpoint({ env: { HF_ENDPOINT: 'http://127.0.0.1:9/hf/' }, setting: 'https://mirror.example' }), {
    url: 'http://127.0.0.1:9/hf',
    source: 'HF_ENDPOINT',
  });
  assert.throws(
    () => resolveHubEndpoint({ env: { HF_ENDPOINT: 'ftp://x' }, setting: null }),
    /HF_ENDPOINT: the hub address must be an http or https URL/,
  );
  assert.equal(
    hubFileUrl('https://h.co', 'Xenova/gpt2', 'main', 'onnx/model.onnx'),
    'https://h.co/Xenova/gpt2/resolve/main/onnx/model.onnx',
  );
  const ok = validateSetting('hubEndpoint', 'https://mirror.example/');
  assert.deepEqual(ok, { ok: true, key: 'hubEndpoint', value: 'https://mirror.example' });
  assert.equal(validateSetting('hubEndpoint', 'none').ok, true);
  assert.match(String((validateSetting('hubEndpoint', 'mirror') as { error: string }).error), /hubEndpoint must be an http or https URL/);
});

test('file names: each dtype has its onnx file, external data chunks follow transformers.js_config', () => {
  assert.equal(dtypeOfFile('onnx/model.onnx'), 'fp32');
  assert.equal(dtypeOfFile('onnx/model_quantized.onnx'), 'q8');
  assert.equal(dtypeOfFile('onnx/model_q4f16.onnx'), 'q4f16');
  assert.equal(dtypeOfFile('onnx/decoder_model_merged.onnx'), 'fp32');
  assert.equal(dtypeOfFile('onnx/decoder_model_merged_quantized.onnx'), 'q8');
  // The unmerged pre-v3 files are not ones Parley loads.
  assert.equal(dtypeOfFile('onnx/decoder_model.onnx'), null);
  assert.equal(dtypeOfFile('onnx/decoder_with_past_model_uint8.onnx'), null);
  assert.deepEqual(modelFilesFor({}, 'q8', 'decoder_model_merged'), ['onnx/decoder_model_merged_quantized.onnx']);
  assert.deepEqual(dtypesIn(['onnx/model_q4.onnx', 'config.json', 'onnx/model.onnx', 'onnx/model.onnx_data']), ['fp32', 'q4']);
  assert.deepEqual(modelFilesFor({}, 'q8'), ['onnx/model_quantized.onnx']);
  const external = { 'transformers.js_config': { use_external_data_format: true } };
  assert.deepEqual(modelFilesFor(external, 'fp32'), ['onnx/model.onnx', 'onnx/model.onnx_data']);
  assert.deepEqual(externalDataFiles({ 'transformers.js_config': { use_external_data_format: 3 } }, 'q4'), [
    'onnx/model_q4.onnx_data',
    'onnx/model_q4.onnx_data_1',
    'onnx/model_q4.onnx_data_2',
  ]);
  assert.deepEqual(externalDataFiles({ 'transformers.js_config': { use_external_data_format: { 'model_fp16.onnx': 1 } } }, 'fp16'), [
    'onnx/model_fp16.onnx_data',
  ]);
  assert.deepEqual(externalDataFiles({ 'transformers.js_config': { use_external_data_format: { 'model_fp16.onnx': 1 } } }, 'fp32'), []);
});

test('speed meter: bytes per second over the recent window', () => {
  const meter = new SpeedMeter(1000);
  assert.equal(meter.add(0, 0), 0);
  assert.equal(meter.add(500, 500), 1000);
  assert.equal(meter.add(1000, 1000), 1000);
  // A stall shows up once the window has moved past the fast part.
  meter.add(3000, 1000);
  assert.equal(meter.add(3500, 1000), 0);
});

test('first download: the files transformers.js reads, byte for byte; a second call makes no request', async () => {
  const cacheDir = freshCache();
  const progress: { file: string; loaded: number; total: number }[] = [];
  const dir = await ensure(cacheDir, 'fixtures/gpt2-tiny', { onProgress: (p) => progress.push(p) });
  assert.equal(dir, path.join(cacheDir, 'fixtures', 'gpt2-tiny'));
  for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json', 'onnx/model.onnx']) {
    await sameBytes(path.join(dir, file), path.join(GPT2_FIXTURE, file));
  }
  assert.equal(existsSync(path.join(dir, 'special_tokens_map.json')), false, 'only what a load reads');
  const last = progress.filter((p) => p.file === 'onnx/model.onnx').at(-1)!;
  assert.equal(last.loaded, last.total);
  assert.equal(last.total, 3351973);
  const requests = hub.requests.length;
  assert.equal(await ensure(cacheDir, 'fixtures/gpt2-tiny'), dir);
  assert.equal(await ensure(cacheDir, 'fixtures/gpt2-tiny', { offline: true }), dir);
  assert.equal(hub.requests.length, requests, 'a cached model needs no request');
});

test('offline: a model not in the cache is a one-line error saying how to download it, with no request', async () => {
  const requests = hub.requests.length;
  await assert.rejects(ensure(freshCache(), 'fixtures/gpt2-tiny', { offline: true, ref: 'fixtures/gpt2-tiny' }), (err: unknown) => {
    assert.ok(err instanceof HubError);
    assert.equal(err.code, 'not-cached');
    assert.equal(
      err.message,
      'fixtures/gpt2-tiny is not in the model cache and --offline forbids downloading; download it first with: parley pull fixtures/gpt2-tiny',
    );
    return true;
  });
  assert.equal(hub.requests.length, requests);
});

test('a transfer cut mid-file leaves no file under its real name; the next run resumes it from where it stopped', async () => {
  const cacheDir = freshCache();
  hub.behave('fixtures/llama-tiny', 'onnx/model.onnx', { cutAfter: 1_000_000, times: 1 });
  await assert.rejects(ensure(cacheDir, 'fixtures/llama-tiny'), (err: unknown) => err instanceof HubError && err.code === 'network');
  const dir = path.join(cacheDir, 'fixtures', 'llama-tiny');
  assert.equal(existsSync(path.join(dir, 'onnx', 'model.onnx')), false);
  const part = await readFile(path.join(dir, 'onnx', 'model.onnx.part'));
  assert.ok(part.length > 0 && part.length <= 1_000_000, `part holds ${part.length} bytes`);

  const mark = hub.requests.length;
  await ensure(cacheDir, 'fixtures/llama-tiny');
  await sameBytes(path.join(dir, 'onnx', 'model.onnx'), path.join(LLAMA_FIXTURE, 'onnx', 'model.onnx'));
  const resumed = hub.requests.slice(mark).find((r) => r.path.endsWith('/onnx/model.onnx'))!;
  assert.equal(resumed.status, 206);
  assert.equal(resumed.range, `bytes=${part.length}-`);
  assert.deepEqual((await readdir(path.join(dir, 'onnx'))).sort(), ['model.onnx'], 'no .part left');
});

test('a part from another version of the file is not spliced: the hub sends it whole again', async () => {
  const cacheDir = freshCache();
  const dir = path.join(cacheDir, 'fixtures', 'gpt2-tiny');
  hub.behave('fixtures/gpt2-tiny', 'onnx/model.onnx', { cutAfter: 500_000, times: 1 });
  await assert.rejects(ensure(cacheDir, 'fixtures/gpt2-tiny'));
  const meta = path.join(dir, 'onnx', 'model.onnx.part.json');
  const recorded = JSON.parse(await readFile(meta, 'utf8')) as { etag: string };
  await writeFile(meta, JSON.stringify({ ...recorded, etag: '"an-older-version"' }));
  const mark = hub.requests.length;
  await ensure(cacheDir, 'fixtures/gpt2-tiny');
  await sameBytes(path.join(dir, 'onnx', 'model.onnx'), path.join(GPT2_FIXTURE, 'onnx', 'model.onnx'));
  assert.equal(hub.requests.slice(mark).find((r) => r.path.endsWith('/onnx/model.onnx'))!.status, 200);
});

test('a stalled transfer gives up with a clear error and keeps nothing under the real name', async () => {
  const cacheDir = freshCache();
  hub.behave('fixtures/gpt2-tiny', 'onnx/model.onnx', { stallAfter: 100_000, times: 1 });
  await assert.rejects(ensure(cacheDir, 'fixtures/gpt2-tiny', { idleTimeoutMs: 1500 }), (err: unknown) => {
    assert.ok(err instanceof HubError);
    assert.match(err.message, /^download of onnx\/model\.onnx of fixtures\/gpt2-tiny stalled: nothing arrived for 2 s$/);
    return true;
  });
  assert.equal(existsSync(path.join(cacheDir, 'fixtures', 'gpt2-tiny', 'onnx', 'model.onnx')), false);
});

test('a slow hub still delivers the whole file, with progress and a speed along the way', async () => {
  const cacheDir = freshCache();
  const dest = path.join(cacheDir, 'config.json');
  hub.behave('fixtures/gpt2-tiny', 'tokenizer.json', { bytesPerSecond: 2_000_000, times: 1 });
  const speeds: number[] = [];
  await downloadFile({
    url: hubFileUrl(hub.url, 'fixtures/gpt2-tiny', 'main', 'tokenizer.json'),
    file: 'tokenizer.json',
    dest,
    repoId: 'fixtures/gpt2-tiny',
    progressEveryMs: 50,
    onProgress: (p) => speeds.push(p.bytesPerSecond),
  });
  await sameBytes(dest, path.join(GPT2_FIXTURE, 'tokenizer.json'));
  assert.ok(
    speeds.some((s) => s > 0),
    'a speed was reported',
  );
});

test('missing dtype: the error names the file and lists the dtypes the repository has (API listing, or HEAD probes on a mirror)', async () => {
  for (const server of [hub, mirror]) {
    await assert.rejects(
      ensureHubModel({ cacheDir: freshCache(), endpoint: server.url, repoId: 'parley/tiny-random', dtype: 'q4', offline: false }),
      (err: unknown) => {
        assert.ok(err instanceof HubError);
        assert.equal(err.code, 'not-found');
        assert.equal(
          err.message,
          'parley/tiny-random has no onnx/model_q4.onnx or onnx/decoder_model_merged_q4.onnx (--dtype q4); it has: fp32, q8',
        );
        return true;
      },
    );
  }
  assert.deepEqual(await listRepoDtypes(mirror.url, 'fixtures/gpt2-tiny'), ['fp32']);
  assert.ok(
    mirror.requests.some((r) => r.method === 'HEAD'),
    'the mirror was probed',
  );
  assert.ok(!hub.requests.some((r) => r.method === 'HEAD'), 'the hub with an API was not');
});

test('a repository that does not exist: one line naming it and the hub', async () => {
  await assert.rejects(ensure(freshCache(), 'nobody/nothing'), (err: unknown) => {
    assert.ok(err instanceof HubError);
    assert.equal(err.message, `nobody/nothing was not found on the hub at ${hub.url} (no config.json)`);
    return true;
  });
});

test('an unreachable hub: one line naming its address, the file, HF_ENDPOINT and --offline; no empty folder left behind', async () => {
  const gone = await startTestHub({ repos: {} });
  const endpoint = gone.url;
  await gone.stop();
  const cacheDir = freshCache();
  await assert.rejects(
    ensureHubModel({ cacheDir, endpoint, repoId: 'fixtures/gpt2-tiny', dtype: 'fp32', offline: false }),
    (err: unknown) => {
      assert.ok(err instanceof HubError);
      assert.equal(err.code, 'network');
      assert.equal(
        err.message,
        `the hub at ${endpoint} is unreachable (ECONNREFUSED) while downloading config.json of fixtures/gpt2-tiny: set HF_ENDPOINT (or the hubEndpoint setting) to a mirror that can be reached, or use --offline to run what is already in the model cache`,
      );
      return true;
    },
  );
  assert.deepEqual(
    (await readdir(cacheDir).catch(() => [])).filter((f) => !f.startsWith('.')),
    [],
    'no empty fixtures/gpt2-tiny folder for parley rm to list',
  );
});

test('two downloads of one model at once (one process): both succeed, one good copy', async () => {
  const cacheDir = freshCache();
  hub.behave('fixtures/gpt2-tiny', 'onnx/model.onnx', { bytesPerSecond: 20_000_000 });
  let waited = 0;
  try {
    const [a, b] = await Promise.all([
      ensure(cacheDir, 'fixtures/gpt2-tiny', { onWait: () => waited++ }),
      ensure(cacheDir, 'fixtures/gpt2-tiny', { onWait: () => waited++ }),
    ]);
    assert.equal(a, b);
  } finally {
    hub.behave('fixtures/gpt2-tiny', 'onnx/model.onnx', null);
  }
  assert.equal(waited, 1, 'the second waited for the first');
  await sameBytes(path.join(cacheDir, 'fixtures', 'gpt2-tiny', 'onnx', 'model.onnx'), path.join(GPT2_FIXTURE, 'onnx', 'model.onnx'));
});

test('property: whatever the hub cuts and wherever, the real name only ever holds the complete file, and retrying ends with it', async () => {
  const { default: fc } = await import('fast-check');
  const source = path.join(root, 'random-repo');
  const body = Buffer.alloc(200_000);
  for (let i = 0; i < body.length; i++) body[i] = (i * 2654435761) >>> 24;
  await mkdir(path.join(source, 'onnx'), { recursive: true });
  await writeFile(path.join(source, 'onnx', 'model.onnx'), body);
  for (const f of ['config.json', 'tokenizer.json', 'tokenizer_config.json']) await writeFile(path.join(source, f), '{}');
  const server = await startTestHub({ repos: { 'prop/model': source } });
  try {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 0, max: body.length - 1 }), { maxLength: 4 }), async (cuts) => {
        const cacheDir = freshCache();
        const dest = path.join(cacheDir, 'prop', 'model', 'onnx', 'model.onnx');
        for (const cut of cuts) {
          server.behave('prop/model', 'onnx/model.onnx', { cutAfter: cut, times: 1 });
          await ensureHubModel({ cacheDir, endpoint: server.url, repoId: 'prop/model', dtype: 'fp32', offline: false }).then(
            // A cut past what this attempt still had to send lets it finish.
            () => undefined,
            (err: unknown) => assert.ok(err instanceof HubError && err.code === 'network', String(err)),
          );
          if (existsSync(dest)) assert.ok((await readFile(dest)).equals(body), 'complete whenever present');
        }
        server.behave('prop/model', 'onnx/model.onnx', null);
        await ensureHubModel({ cacheDir, endpoint: server.url, repoId: 'prop/model', dtype: 'fp32', offline: false });
        assert.ok((await readFile(dest)).equals(body));
        assert.deepEqual(await readdir(path.dirname(dest)), ['model.onnx']);
      }),
      { numRuns: 12 },
    );
  } finally {
    await server.stop();
  }
});
