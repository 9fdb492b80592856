// The first run, for real: `parley` against the local test hub, as a user runs it. Downloads
// into the model cache, runs from it offline, survives cut transfers, Ctrl+C, kill -9, a
// full disk and a second process, and `parley pull/models/rm` manage the cache.
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { MODEL_ALIASES } from '../../src/engine/load/modelRefs.js';
import { ensureHubModel } from '../../src/hub/ensureHubModel.js';
import { onnxFileFor } from '../../src/hub/modelFiles.js';
import { REPO_ROOT } from '../helpers/fixtures.js';
import { signalDelivered } from '../helpers/signals.js';
import { tempParleyEnv, type TempParleyEnv } from '../helpers/parleyEnv.js';
import { publishedGpt2Repos, startTestHub, type TestHub } from '../helpers/testHub.js';
import { waitFor } from '../helpers/waitFor.js';

const CLI = path.join(REPO_ROOT, 'dist', 'src', 'cli.js');
const FIXTURES = path.join(REPO_ROOT, 'test', 'fixtures');
let hub: TestHub;
let home: TempParleyEnv;
let dir: string;
let env: NodeJS.ProcessEnv;
let cacheDir: string;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function parley(args: string[], options: { input?: string; env?: NodeJS.ProcessEnv; shell?: string } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const [command, argv] = options.shell
      ? ['/bin/sh', ['-c', `${options.shell} && exec "$0" "$@"`, process.execPath, CLI, ...args]]
      : [process.execPath, [CLI, ...args]];
    const child = execFile(command, argv, { env: options.env ?? env, cwd: dir }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : 128) : 0;
      resolve({ code, stdout, stderr });
    });
    child.stdin?.end(options.input);
  });
}

const repoDir = (id: string): string => path.join(cacheDir, ...id.split('/'));
const sameAsFixture = async (file: string, repo: string, fixture: string): Promise<void> => {
  assert.ok((await readFile(path.join(repoDir(repo), file))).equals(await readFile(path.join(FIXTURES, fixture, file))), `${repo}/${file}`);
};

before(async () => {
  hub = await startTestHub({
    repos: {
      'fixtures/gpt2-tiny': path.join(FIXTURES, 'hf-gpt2-tiny'),
      'fixtures/qwen2-tiny': path.join(FIXTURES, 'hf-qwen2-tiny'),
      'fixtures/llama-tiny': path.join(FIXTURES, 'hf-llama-tiny'),
      ...publishedGpt2Repos(FIXTURES),
      // As onnx-community publishes it: no fp32 file is needed for the alias's own dtype (q8).
      'onnx-community/Qwen2.5-0.5B-Instruct': {
        files: Object.fromEntries([
          ...['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'].map((f) => [
            f,
            path.join(FIXTURES, 'hf-qwen2-tiny', f),
          ]),
          ['onnx/model_quantized.onnx', path.join(FIXTURES, 'hf-qwen2-tiny', 'onnx', 'model.onnx')],
        ]),
      },
    },
  });
  home = await tempParleyEnv('hubcli');
  dir = home.root;
  cacheDir = home.env.PARLEY_CACHE_DIR;
  env = { PATH: process.env['PATH'], HF_ENDPOINT: hub.url, ...home.env };
});

after(async () => {
  await hub.stop();
  await home.remove();
});

test('first run: parley --model owner/name -p downloads into the cache and answers; no progress on a non-terminal stderr; a second run makes no request', async () => {
  const args = ['--model', 'fixtures/qwen2-tiny', '-p', 'Hello', '--max-tokens', '4', '--temperature', '0'];
  const first = await parley(args);
  assert.equal(first.code, 0, first.stderr);
  assert.ok(first.stdout.trim().length > 0, 'a reply');
  assert.equal(first.stderr, '', 'no progress line when stderr is not a terminal');
  for (const file of ['config.json', 'tokenizer.json', 'tokenizer_config.json', 'generation_config.json', 'onnx/model.onnx']) {
    await sameAsFixture(file, 'fixtures/qwen2-tiny', 'hf-qwen2-tiny');
  }
  const requests = hub.requests.length;
  const second = await parley(args);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(second.stdout, first.stdout, 'same greedy reply from the cache');
  assert.equal(hub.requests.length, requests, 'the second run made no request');
});

test('offline: --offline runs from the cache with the hub stopped; an uncached model is a one-line error saying how to download it', async () => {
  const warm = await parley(['--model', 'fixtures/gpt2-tiny', '-p', 'Hi', '--max-tokens', '2']);
  assert.equal(warm.code, 0, warm.stderr);
  await hub.stop();
  try {
    const cached = await parley(['--offline', '--model', 'fixtures/gpt2-tiny', '-p', 'Hi', '--max-tokens', '2']);
    assert.equal(cached.code, 0, cached.stderr);
    const uncached = await parley(['--offline', '--model', 'fixtures/llama-tiny', '-p', 'Hi']);
    assert.equal(uncached.code, 1);
    assert.equal(
      uncached.stderr,
      'parley: fixtures/llama-tiny is not in the model cache and --offline forbids downloading; download it first with: parley pull fixtures/llama-tiny\n',
    );
    const down = await parley(['--model', 'fixtures/llama-tiny', '-p', 'Hi']);
    assert.equal(down.code, 1);
    assert.match(
      down.stderr,
      /^parley: the hub at http:\/\/127\.0\.0\.1:\d+ is unreachable \(ECONNREFUSED\) while downloading config\.json of fixtures\/llama-tiny: set HF_ENDPOINT .* or use --offline/,
    );
    assert.equal(down.stderr.split('\n').length, 2, 'one line');
  } finally {
    await hub.start();
  }
});

test('gpt2 as published (a merged decoder, no position_ids, Gemm layers): downloaded from an empty cache, converted, and it answers', async () => {
  const mark = hub.requests.length;
  const gpt2 = await parley(['--model', 'gpt2', '-p', 'Hi', '--max-tokens', '2', '--temperature', '0']);
  assert.equal(gpt2.code, 0, gpt2.stderr);
  assert.equal(gpt2.stderr, '', 'no "running the export as it is" notice: it runs on Parley\'s graph');
  assert.ok(gpt2.stdout.trim().length > 0);
  const files = hub.requests.slice(mark).map((r) => r.path);
  assert.ok(files.includes('/Xenova/gpt2/resolve/main/onnx/model.onnx'));
  assert.ok(!files.some((f) => f.includes('decoder_model_merged')), 'the current name is taken when it exists');
  assert.ok(existsSync(path.join(repoDir('Xenova/gpt2'), 'parley-converted', 'rows-fp32', 'onnx', 'model.onnx')));
});

test('distilgpt2 as published (pre-v3 names only): run, pulled in q8 and run offline from its 8-bit file', async () => {
  const mark = hub.requests.length;
  const run = await parley(['--model', 'distilgpt2', '-p', 'Hi', '--max-tokens', '2', '--temperature', '0']);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(run.stderr, '');
  const paths = hub.requests.slice(mark).map((r) => `${r.status} ${r.path}`);
  assert.ok(paths.includes('404 /Xenova/distilgpt2/resolve/main/onnx/model.onnx'));
  assert.ok(paths.includes('200 /Xenova/distilgpt2/resolve/main/onnx/decoder_model_merged.onnx'));

  // q8 in a cache of its own, offline after the pull: built from the 8-bit file.
  const cache = path.join(dir, 'cache-distil-q8');
  const q8env = { ...env, PARLEY_CACHE_DIR: cache };
  const pulled = await parley(['pull', 'distilgpt2', '--dtype', 'q8'], { env: q8env });
  assert.equal(pulled.code, 0, pulled.stderr);
  assert.match(pulled.stdout, /^Xenova\/distilgpt2 \(q8\) is ready: 128 tokens of context/);
  assert.ok(existsSync(path.join(cache, 'Xenova', 'distilgpt2', 'onnx', 'decoder_model_merged_quantized.onnx')));
  await rm(path.join(cache, 'Xenova', 'distilgpt2', 'onnx', 'decoder_model_merged.onnx'), { force: true });
  await rm(path.join(cache, 'Xenova', 'distilgpt2', 'parley-converted'), { recursive: true, force: true });
  const offline = await parley(['--offline', '--model', 'distilgpt2', '--dtype', 'q8', '-p', 'Hi', '--max-tokens', '2'], { env: q8env });
  assert.equal(offline.code, 0, offline.stderr);
  assert.equal(offline.stderr, '', "runs on Parley's q8 graph, built from decoder_model_merged_quantized.onnx");
  const stamp = JSON.parse(
    await readFile(path.join(cache, 'Xenova', 'distilgpt2', 'parley-converted', 'rows-q8', 'parley-converted.json'), 'utf8'),
  ) as {
    source: { file: string };
    dtypes: { q8: { ok: boolean } };
  };
  assert.match(stamp.source.file, /decoder_model_merged_quantized\.onnx$/);
  assert.equal(stamp.dtypes.q8.ok, true);

  // A dtype neither naming has, which Parley builds: from the best source at hand (here the 8-bit file).
  const q4 = await parley(['pull', 'distilgpt2', '--dtype', 'q4'], { env: q8env });
  assert.equal(q4.code, 0, q4.stderr);
  assert.match(q4.stdout, /^Xenova\/distilgpt2 \(q4\) is ready/);
  assert.equal(existsSync(path.join(cache, 'Xenova', 'distilgpt2', 'onnx', 'decoder_model_merged_q4.onnx')), false);
});

test('parley pull ALIAS without --dtype fetches the dtype the chat loads for that alias (qwen2.5: q8)', async () => {
  const mark = hub.requests.length;
  const cache = path.join(dir, 'cache-pull-alias');
  const pulled = await parley(['pull', 'qwen2.5'], { env: { ...env, PARLEY_CACHE_DIR: cache } });
  assert.equal(pulled.code, 0, pulled.stderr);
  assert.match(pulled.stdout, /^onnx-community\/Qwen2\.5-0\.5B-Instruct \(q8\) is ready/);
  const files = hub.requests.slice(mark).map((r) => r.path);
  assert.ok(files.includes('/onnx-community/Qwen2.5-0.5B-Instruct/resolve/main/onnx/model_quantized.onnx'));
  assert.ok(!files.some((f) => f.endsWith('/onnx/model.onnx')), 'no fp32 file');
});

test('every alias resolves to its repository and the file names transformers.js reads', async () => {
  // Each alias's repository is served by the test hub as a copy of a fixture folder.
  const served = await startTestHub({
    repos: Object.fromEntries(Object.values(MODEL_ALIASES).map((repo) => [repo, path.join(FIXTURES, 'hf-gpt2-tiny')])),
  });
  try {
    for (const [alias, repo] of Object.entries(MODEL_ALIASES)) {
      const mark = served.requests.length;
      const cache = path.join(dir, `alias-${alias}`);
      await ensureHubModel({ cacheDir: cache, endpoint: served.url, repoId: repo, dtype: 'fp32', offline: false, ref: alias });
      const got = served.fileRequests().slice(mark).sort();
      const want = ['config.json', 'generation_config.json', onnxFileFor('fp32'), 'tokenizer.json', 'tokenizer_config.json']
        .map((f) => `/${repo}/${f}`)
        .sort();
      assert.deepEqual(got, want, alias);
    }
  } finally {
    await served.stop();
  }
});

test('pull, models and rm: download with a check that it loads, list with dtypes, size and last use, remove after asking', async () => {
  const pulled = await parley(['pull', 'fixtures/llama-tiny']);
  assert.equal(pulled.code, 0, pulled.stderr);
  // 12 MB: the 4.x MB download and Parley's graph converted from it while checking that it
  // loads, whose tied head holds its own copy of the 3.2 MB embedding table.
  assert.match(pulled.stdout, /^fixtures\/llama-tiny \(fp32\) is ready: 256 tokens of context, 12 MB in .*fixtures\/llama-tiny\n$/);
  assert.match(pulled.stderr, /downloaded onnx\/model\.onnx \(3\.\d MB\)/);
  assert.match(pulled.stderr, /checking that fixtures\/llama-tiny loads/);

  // The graph converted from the repository, where the converter puts it (replaced by one small file, for the sizes below).
  const converted = path.join(repoDir('fixtures/llama-tiny'), 'parley-converted', 'rows-fp32');
  assert.ok(existsSync(path.join(converted, 'onnx', 'model.onnx')));
  await rm(path.dirname(converted), { recursive: true, force: true });
  await mkdir(path.join(converted, 'onnx'), { recursive: true });
  await writeFile(path.join(converted, 'onnx', 'model.onnx'), Buffer.alloc(2048));

  const listed = await parley(['models']);
  assert.equal(listed.code, 0, listed.stderr);
  const row = listed.stdout.split('\n').find((l) => l.startsWith('fixtures/llama-tiny'));
  assert.match(row ?? '', /^fixtures\/llama-tiny\s+fp32\s+4\.\d MB\s+(?:just now|\d+ seconds? ago)$/);
  assert.match(listed.stdout, /\n {2}converted graph rows-fp32 {2}2\.0 kB\n/);
  assert.match(listed.stdout, /^MODEL\s+DTYPES\s+SIZE\s+LAST USED\n/);
  assert.match(listed.stdout, new RegExp(`Cache: ${cacheDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n$`));

  const declined = await parley(['rm', 'fixtures/llama-tiny'], { input: 'n\n' });
  assert.equal(declined.code, 1);
  assert.match(declined.stderr, /Remove fixtures\/llama-tiny from the model cache \(4\.\d MB\)\? \[y\/N\] /);
  assert.ok(existsSync(repoDir('fixtures/llama-tiny')));

  const dtypeOnly = await parley(['rm', 'fixtures/llama-tiny', '--dtype', 'fp32', '--yes']);
  assert.equal(dtypeOnly.code, 0, dtypeOnly.stderr);
  assert.match(dtypeOnly.stdout, /^removed fixtures\/llama-tiny fp32: 3\.\d MB freed\n$/);
  assert.equal(existsSync(path.join(repoDir('fixtures/llama-tiny'), 'onnx', 'model.onnx')), false);
  assert.equal(existsSync(converted), false, 'the converted fp32 graph goes with it');
  assert.match((await parley(['models'])).stdout, /fixtures\/llama-tiny\s+no model file/);

  const removed = await parley(['rm', 'fixtures/llama-tiny'], { input: 'y\n' });
  assert.equal(removed.code, 0, removed.stderr);
  assert.match(removed.stdout, /^removed fixtures\/llama-tiny: 1\.\d MB freed\n$/);
  assert.equal(existsSync(repoDir('fixtures/llama-tiny')), false);
  assert.equal(existsSync(path.join(cacheDir, 'fixtures')), true, 'other models of the owner stay');

  const again = await parley(['rm', 'fixtures/llama-tiny', '--yes']);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /^parley: fixtures\/llama-tiny is not in the model cache/);
  const bad = await parley(['pull']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /usage: parley pull MODEL/);
  const folder = await parley(['pull', './somewhere']);
  assert.equal(folder.code, 1);
  assert.match(folder.stderr, /is a folder, not a hub model/);
});

test('the hubEndpoint setting points Parley at a hub when HF_ENDPOINT is not set', async () => {
  const configDir = path.join(dir, 'config-hub');
  await mkdir(configDir, { recursive: true });
  await writeFile(path.join(configDir, 'config.json'), JSON.stringify({ hubEndpoint: hub.url }));
  const { HF_ENDPOINT: _, ...rest } = env;
  const cache = path.join(dir, 'cache-setting');
  const run = await parley(['pull', 'fixtures/gpt2-tiny'], { env: { ...rest, PARLEY_CONFIG_DIR: configDir, PARLEY_CACHE_DIR: cache } });
  assert.equal(run.code, 0, run.stderr);
  assert.ok(existsSync(path.join(cache, 'fixtures', 'gpt2-tiny', 'onnx', 'model.onnx')));
});

/** Starts `parley pull` (or other `args`) and resolves once the hub has started sending `file`'s body. */
async function startPull(
  id: string,
  file: string,
  cache: string,
  args = ['pull', id],
): Promise<{ child: ChildProcess; result: Promise<Run> }> {
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...env, PARLEY_CACHE_DIR: cache },
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const result = new Promise<Run>((resolve) =>
    child.on('close', (code, signal) => resolve({ code: code ?? (signal === 'SIGKILL' ? 137 : 128), stdout, stderr })),
  );
  const part = path.join(cache, ...id.split('/'), `${file}.part`);
  try {
    await waitFor(
      () =>
        stat(part).then(
          (s) => s.size > 0,
          () => false,
        ),
      { timeoutMs: 30_000, intervalMs: 50, what: `the download of ${file}`, detail: () => stderr },
    );
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return { child, result };
}

for (const signal of ['SIGINT', 'SIGKILL'] as const) {
  test(`${signal === 'SIGINT' ? 'Ctrl+C' : 'kill -9'} mid-download: no partial file taken for complete; the next pull finishes it`, async () => {
    const cache = path.join(dir, `cache-${signal}`);
    hub.behave('fixtures/gpt2-tiny', 'onnx/model.onnx', { stallAfter: 400_000, times: 1 });
    const { child, result } = await startPull('fixtures/gpt2-tiny', 'onnx/model.onnx', cache);
    child.kill(signal);
    const stopped = await result;
    const modelDir = path.join(cache, 'fixtures', 'gpt2-tiny');
    if (signal === 'SIGINT') {
      assert.equal(stopped.code, 130);
      assert.match(
        stopped.stderr,
        /parley: download of fixtures\/gpt2-tiny stopped; run parley pull fixtures\/gpt2-tiny again to finish it\n$/,
      );
    }
    assert.equal(existsSync(path.join(modelDir, 'onnx', 'model.onnx')), false);
    const offline = await parley(['--offline', '--model', 'fixtures/gpt2-tiny', '-p', 'Hi'], { env: { ...env, PARLEY_CACHE_DIR: cache } });
    assert.equal(offline.code, 1, 'the partial download is not taken for a cached model');
    assert.match(offline.stderr, /not in the model cache/);

    const mark = hub.requests.length;
    const finished = await parley(['pull', 'fixtures/gpt2-tiny'], { env: { ...env, PARLEY_CACHE_DIR: cache } });
    assert.equal(finished.code, 0, finished.stderr);
    await sameAsFixtureIn(cache, 'fixtures/gpt2-tiny', 'onnx/model.onnx', 'hf-gpt2-tiny');
    const resumed = hub.requests.slice(mark).find((r) => r.path.endsWith('/onnx/model.onnx'));
    assert.equal(resumed?.status, 206, 'resumed where it stopped');
    assert.deepEqual(await readdir(path.join(modelDir, 'onnx')), ['model.onnx']);
  });
}

test('Ctrl+C during the first run of parley -p: nothing partial is taken for complete; the next run finishes the download and answers', async () => {
  const cache = path.join(dir, 'cache-oneshot-sigint');
  hub.behave('fixtures/gpt2-tiny', 'onnx/model.onnx', { stallAfter: 400_000, times: 1 });
  const args = ['--model', 'fixtures/gpt2-tiny', '-p', 'Hello', '--max-tokens', '2'];
  const { child, result } = await startPull('fixtures/gpt2-tiny', 'onnx/model.onnx', cache, args);
  child.kill('SIGINT');
  // The load goes on after one Ctrl+C (it only stops a reply); a second one quits.
  await waitFor(() => signalDelivered(child.pid!, 'SIGINT'), { what: 'the first SIGINT to reach Parley' });
  child.kill('SIGINT');
  await result;
  assert.equal(existsSync(path.join(cache, 'fixtures', 'gpt2-tiny', 'onnx', 'model.onnx')), false);
  const next = await parley(args, { env: { ...env, PARLEY_CACHE_DIR: cache } });
  assert.equal(next.code, 0, next.stderr);
  assert.ok(next.stdout.trim().length > 0);
  await sameAsFixtureIn(cache, 'fixtures/gpt2-tiny', 'onnx/model.onnx', 'hf-gpt2-tiny');
});

async function sameAsFixtureIn(cache: string, repo: string, file: string, fixture: string): Promise<void> {
  const got = await readFile(path.join(cache, ...repo.split('/'), file));
  assert.ok(got.equals(await readFile(path.join(FIXTURES, fixture, file))), `${repo}/${file}`);
}

test('disk full (file size limit) during a download: a clear error, nothing partial kept, the cache still good', async () => {
  const cache = path.join(dir, 'cache-full');
  const full = await parley(['pull', 'fixtures/gpt2-tiny'], { env: { ...env, PARLEY_CACHE_DIR: cache }, shell: 'ulimit -f 2400' });
  assert.equal(full.code, 1);
  assert.match(
    full.stderr,
    /parley: cannot save onnx\/model\.onnx of fixtures\/gpt2-tiny: the file would exceed the file size limit \(nothing partial was kept\)\n$/,
  );
  const onnx = path.join(cache, 'fixtures', 'gpt2-tiny', 'onnx');
  assert.deepEqual(await readdir(onnx).catch(() => []), [], 'no partial file');
  const after = await parley(['pull', 'fixtures/gpt2-tiny'], { env: { ...env, PARLEY_CACHE_DIR: cache } });
  assert.equal(after.code, 0, after.stderr);
  await sameAsFixtureIn(cache, 'fixtures/gpt2-tiny', 'onnx/model.onnx', 'hf-gpt2-tiny');
});

test('two processes downloading the same model at once: both succeed, one download, one good copy', async () => {
  const cache = path.join(dir, 'cache-two');
  // Slow enough (about 3 s) that the second process starts while the first still downloads.
  hub.behave('fixtures/gpt2-tiny', 'onnx/model.onnx', { bytesPerSecond: 1_000_000 });
  const mark = hub.requests.length;
  try {
    const [a, b] = await Promise.all([
      parley(['pull', 'fixtures/gpt2-tiny'], { env: { ...env, PARLEY_CACHE_DIR: cache } }),
      parley(['pull', 'fixtures/gpt2-tiny'], { env: { ...env, PARLEY_CACHE_DIR: cache } }),
    ]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(b.code, 0, b.stderr);
    assert.equal([a, b].filter((r) => r.stderr.includes('waiting for another Parley process downloading fixtures/gpt2-tiny')).length, 1);
  } finally {
    hub.behave('fixtures/gpt2-tiny', 'onnx/model.onnx', null);
  }
  assert.equal(hub.requests.slice(mark).filter((r) => r.path.endsWith('/onnx/model.onnx')).length, 1);
  await sameAsFixtureIn(cache, 'fixtures/gpt2-tiny', 'onnx/model.onnx', 'hf-gpt2-tiny');
});
