// `parley --version` and `--help` must stay instant, so they never load
// transformers.js or onnxruntime. The CLI runs with an --import module that records every
// module the process loads: ES modules through a resolve hook (module.register), CommonJS
// ones from require.cache at exit (Node 20's hooks do not see require()).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { REPO_ROOT } from '../helpers/fixtures.js';

const CLI = path.join(REPO_ROOT, 'dist', 'src', 'cli.js');
const HEAVY = /[\\/]node_modules[\\/](@huggingface[\\/]transformers|onnxruntime-node|onnxruntime-common)[\\/]/;

const HOOKS = `
import { appendFileSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(process.env.PARLEY_LOAD_LOG, result.url + '\\n');
  return result;
}
`;

const RECORDER = `
import { appendFileSync } from 'node:fs';
import { createRequire, register } from 'node:module';
register('./hooks.mjs', import.meta.url);
const require = createRequire(import.meta.url);
process.on('exit', () => appendFileSync(process.env.PARLEY_LOAD_LOG, Object.keys(require.cache).join('\\n') + '\\n'));
`;

/** Runs node with the recorder; returns stdout and every module (URL or path) it loaded. */
async function loadedModules(args: string[]): Promise<{ stdout: string; modules: string[] }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'parley-startup-'));
  try {
    await writeFile(path.join(dir, 'hooks.mjs'), HOOKS);
    await writeFile(path.join(dir, 'recorder.mjs'), RECORDER);
    const log = path.join(dir, 'loaded.txt');
    await writeFile(log, '');
    const recorder = pathToFileURL(path.join(dir, 'recorder.mjs')).href;
    const { stdout } = await promisify(execFile)(process.execPath, ['--import', recorder, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, PARLEY_LOAD_LOG: log },
    });
    return { stdout, modules: (await readFile(log, 'utf8')).split('\n').filter(Boolean) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('the recorder sees onnxruntime when something loads it', async () => {
  const { modules } = await loadedModules(['--input-type=module', '-e', "await import('onnxruntime-node')"]);
  assert.ok(
    modules.some((m) => HEAVY.test(m)),
    `onnxruntime-node not among:\n${modules.join('\n')}`,
  );
});

for (const flag of ['--version', '--help']) {
  test(`parley ${flag} loads neither transformers.js nor onnxruntime`, async () => {
    const { stdout, modules } = await loadedModules([CLI, flag]);
    assert.match(stdout, flag === '--version' ? /^parley \d+\.\d+\.\d+\n$/ : /parley/);
    assert.ok(
      modules.some((m) => m.endsWith('/dist/src/cli/args.js')),
      'the recorder saw the CLI load',
    );
    assert.deepEqual(
      modules.filter((m) => HEAVY.test(m)),
      [],
    );
  });
}
