// One-shot mode (`parley -p`) on the hub-style instruct exports, as a user runs it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { HF_LLAMA_TINY, HF_QWEN2_TINY, REPO_ROOT } from '../helpers/fixtures.js';
import { makeVariant } from '../helpers/fixtureVariants.js';
import { tempParleyEnv, type TempParleyEnv } from '../helpers/parleyEnv.js';

const CLI = path.join(REPO_ROOT, 'dist', 'src', 'cli.js');
let home: TempParleyEnv;

before(async () => {
  home = await tempParleyEnv('instruct-cli');
});
after(() => home.remove());

function parley(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { PATH: process.env['PATH'], ...home.env };
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [CLI, ...args], { env, cwd: home.root }, (error, stdout, stderr) => {
      resolve({ code: error && typeof error.code === 'number' ? error.code : 0, stdout, stderr });
    });
    child.stdin?.end();
  });
}

const greedy = ['--offline', '--temperature', '0', '--repeat-penalty', '1', '--max-tokens', '4', '-p', 'Hello'];

test('parley -p on the Qwen2 and Llama exports: the greedy reply, nothing else', async () => {
  const qwen = await parley(['--model', HF_QWEN2_TINY, ...greedy]);
  assert.equal(qwen.code, 0, qwen.stderr);
  assert.equal(qwen.stdout, 'Firstly Firstly Firstly Firstly\n');
  const llama = await parley(['--model', HF_LLAMA_TINY, ...greedy]);
  assert.equal(llama.code, 0, llama.stderr);
  assert.equal(llama.stdout, 'Attorney Attorney Attorney Attorney\n');
});

test('parley -p stops at <|im_end|> and prints no special token', async () => {
  const variant = makeVariant(HF_QWEN2_TINY, { row: { target: 50258, like: 41039, scale: 1.05 } });
  try {
    const run = await parley(['--model', variant.dir, '--offline', '--temperature', '0', '--max-tokens', '20', '-p', 'Hello']);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, 'Firstly\n');
  } finally {
    variant.remove();
  }
});

test('parley -p on a folder without the default file says which dtype it loaded', async () => {
  const variant = makeVariant(HF_LLAMA_TINY, { onnxName: 'model_q4.onnx' });
  try {
    const run = await parley(['--model', variant.dir, ...greedy]);
    assert.equal(run.code, 0, run.stderr);
    // No dtype chosen: Parley's q4 graph is built from the q4 file, the one the folder has.
    assert.equal(run.stderr, 'parley: loaded q4: the model has no fp32 file\n');
    assert.equal(run.stdout, 'Attorney Attorney Attorney Attorney\n');
    const chosen = await parley(['--model', variant.dir, '--dtype', 'fp32', ...greedy]);
    assert.equal(chosen.code, 1);
    assert.match(chosen.stderr, /has no onnx\/model\.onnx \(needed for --dtype fp32\)/);
  } finally {
    variant.remove();
  }
});
