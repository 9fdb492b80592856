// What `npm pack` ships: only what runs Parley, built by the package's own scripts. The
// install of that tarball into a fresh prefix, and running it, is checked by .ci/run.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { REPO_ROOT } from './helpers/fixtures.js';

const run = promisify(execFile);

interface PackageJson {
  bin: Record<string, string>;
  scripts: Record<string, string>;
  files?: string[];
  dependencies: Record<string, string>;
}

test('the tarball holds the built program and its docs, not the tests, benchmarks or fixtures', async () => {
  // --ignore-scripts: list what the current build would ship, without rebuilding it.
  const { stdout } = await run('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO_ROOT });
  const [pack] = JSON.parse(stdout) as [{ files: { path: string }[] }];
  const files = pack.files.map((f) => f.path);
  const pkg = JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as PackageJson;
  for (const needed of [
    'package.json',
    'README.md',
    pkg.bin['parley']!,
    'dist/src/engine/worker/engineWorker.js',
    'dist/src/engine/tokenizer/tokenizerWorker.js',
  ]) {
    assert.ok(files.includes(needed), `${needed} is in the tarball`);
  }
  const stray = files.filter(
    (f) =>
      !f.startsWith('dist/src/') &&
      !f.startsWith('models/demo/') &&
      !['package.json', 'README.md', 'LICENSE', 'sessions/README.md'].includes(f),
  );
  assert.deepEqual(stray, [], 'nothing but dist/src, the demo model and the docs');
  // The demo model ships whole: `parley --model demo` runs from the installed package, offline.
  for (const needed of ['models/demo/config.json', 'models/demo/tokenizer.json', 'models/demo/onnx/model_quantized.onnx'])
    assert.ok(files.includes(needed), needed);
  assert.deepEqual(
    files.filter((f) => f.startsWith('dist/src/') && !f.endsWith('.js')),
    [],
    'no source maps or type files',
  );
});

test('a fresh clone builds its program on install and pack; ink is pinned to the minor version whose internals it uses', async () => {
  const pkg = JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as PackageJson;
  assert.match(pkg.scripts['prepare'] ?? '', /tsc -b tsconfig\.build\.json/);
  // npm start rebuilds only what changed: tsc's build mode, with its build info beside the output.
  assert.match(pkg.scripts['start'] ?? '', /^node scripts\/sourcesUpToDate\.mjs \|\| tsc -b tsconfig\.build\.json && node /);
  const build = JSON.parse(await readFile(path.join(REPO_ROOT, 'tsconfig.build.json'), 'utf8')) as {
    include: string[];
    compilerOptions: { incremental?: boolean; tsBuildInfoFile?: string };
  };
  assert.deepEqual(build.include, ['src/**/*'], 'prepare builds the program only: npm ci stays quick');
  assert.equal(build.compilerOptions.incremental, true);
  assert.match(build.compilerOptions.tsBuildInfoFile ?? '', /^dist\/src\//, 'cleaning dist/src drops the build info with the output');
  // useTerminalInput listens on Ink's internal input event emitter, which a minor release may change.
  assert.equal(pkg.dependencies['ink'], '~6.8.0');
  const lock = JSON.parse(await readFile(path.join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version: string; dependencies?: Record<string, string> }>;
  };
  assert.equal(lock.packages['']!.dependencies!['ink'], '~6.8.0');
  assert.match(lock.packages['node_modules/ink']!.version, /^6\.8\./);
  // onnxruntime-node's CUDA download: denied to npm 11 here, and skipped by the variable in the
  // README's commands and CI for older npm; no .npmrc key, which npm 11 warns about on every command.
  assert.deepEqual((pkg as PackageJson & { allowScripts?: Record<string, boolean> }).allowScripts?.['onnxruntime-node'], false);
  assert.equal(existsSync(path.join(REPO_ROOT, '.npmrc')), false);
  const readme = await readFile(path.join(REPO_ROOT, 'README.md'), 'utf8');
  assert.match(readme, /^ONNXRUNTIME_NODE_INSTALL=skip npm ci && npm test /m);
  assert.match(await readFile(path.join(REPO_ROOT, '.ci', 'run'), 'utf8'), /^export ONNXRUNTIME_NODE_INSTALL=skip$/m);
  // fastify's light-my-request 6.8 needs cookie@2 (Node 22+): 6.6.0 is pinned as a direct
  // dependency, so an install of the tarball (where overrides do not apply) takes it too.
  assert.equal(pkg.dependencies['light-my-request'], '6.6.0');
  // No dependency asks for a newer Node than package.json's engines promise (npm ci warns EBADENGINE).
  const packages = Object.entries(lock.packages as Record<string, { dev?: boolean; engines?: { node?: string } }>);
  const tooNew = packages.filter(([, p]) => !p.dev && /(^|\s)>=\s*2[1-9]/.test(p.engines?.node ?? '')).map(([name]) => name);
  assert.deepEqual(tooNew, [], 'dependencies that need Node 21+');
  // The tools that only build, lint and test (ESLint: "^20.19.0 || ^22.13.0 || >=24") run on Node 20 as it is installed today.
  const devTooNew = packages
    .filter(([, p]) => p.dev && p.engines?.node !== undefined && !admits(p.engines.node, NODE_20))
    .map(([name]) => name);
  assert.deepEqual(devTooNew, [], `development dependencies that do not run on Node ${NODE_20.join('.')}`);
});

test('npm start skips the compiler when dist/src is newer than every source, and not otherwise', async () => {
  const root = await mkdtemp(path.join(os.tmpdir(), 'parley-uptodate-'));
  try {
    const check = (): Promise<number> =>
      run(process.execPath, [path.join(REPO_ROOT, 'scripts', 'sourcesUpToDate.mjs'), root]).then(
        () => 0,
        (err: { code?: number }) => err.code ?? -1,
      );
    await mkdir(path.join(root, 'src', 'chat'), { recursive: true });
    await mkdir(path.join(root, 'dist', 'src'), { recursive: true });
    for (const f of ['tsconfig.json', 'tsconfig.build.json', 'package-lock.json', 'src/cli.ts', 'src/chat/a.ts'])
      await writeFile(path.join(root, f), '');
    assert.equal(await check(), 1, 'never built');
    const later = new Date(Date.now() + 10_000);
    await writeFile(path.join(root, 'dist', 'src', '.tsbuildinfo'), '');
    await utimes(path.join(root, 'dist', 'src', '.tsbuildinfo'), later, later);
    assert.equal(await check(), 0, 'built after every source');
    const newer = new Date(Date.now() + 20_000);
    await utimes(path.join(root, 'src', 'chat', 'a.ts'), newer, newer);
    assert.equal(await check(), 1, 'a source changed since');
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});

/** The last line of Node 20's releases (20.19 and on), which is what installing Node 20 gives. */
const NODE_20 = [20, 19, 0] as const;
type Version = readonly [number, number, number];

/** Whether an engines range admits `version`, for the range syntax package.json files use (throws on any other). */
function admits(range: string, version: Version): boolean {
  return range.split('||').some((alternative) =>
    alternative
      .trim()
      .replace(/(>=|<=|>|<|=)\s+/g, '$1')
      .split(/\s+/)
      .every((comparator) => comparatorAdmits(comparator, version)),
  );
}

function comparatorAdmits(comparator: string, version: Version): boolean {
  if (comparator === '' || comparator === '*') return true;
  const match = /^(\^|~|>=|<=|>|<|=)?v?(\d+)(?:\.(\d+|x))?(?:\.(\d+|x))?$/.exec(comparator);
  if (!match) throw new Error(`an engines range this test cannot read: ${comparator}`);
  const [, op = '=', major, minor, patch] = match;
  const low: Version = [
    Number(major),
    minor === undefined || minor === 'x' ? 0 : Number(minor),
    patch === undefined || patch === 'x' ? 0 : Number(patch),
  ];
  const cmp = (a: Version, b: Version): number => a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
  const partial = minor === undefined || minor === 'x' ? 'major' : patch === undefined || patch === 'x' ? 'minor' : 'none';
  // The first version past what the comparator covers: 20 → 21.0.0, 20.9 → 20.10.0, ^20.9.0 → 21.0.0, ~20.9.0 → 20.10.0.
  const next: Version =
    op === '^' || partial === 'major'
      ? [low[0] + 1, 0, 0]
      : op === '~' || partial === 'minor'
        ? [low[0], low[1] + 1, 0]
        : [low[0], low[1], low[2] + 1];
  switch (op) {
    case '>=':
      return cmp(version, low) >= 0;
    case '>':
      return cmp(version, next) >= 0;
    case '<':
      return cmp(version, low) < 0;
    case '<=':
      return cmp(version, next) < 0;
    default:
      return cmp(version, low) >= 0 && cmp(version, next) < 0;
  }
}
