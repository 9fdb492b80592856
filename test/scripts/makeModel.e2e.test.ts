// The make-model script: argument handling and a small end-to-end run.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../../scripts/makeModel.js', import.meta.url));

function makeModel(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [SCRIPT, ...args], (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

test('bad arguments fail with one line naming the problem', async () => {
  const cases: [string[], RegExp][] = [
    [[], /--out DIR is required/],
    [['--out', 'x', '--heads', 'abc'], /--heads must be a whole number, got "abc"/],
    [['--out', 'x', '--embd', '100', '--heads', '12'], /embd \(100\) must be a multiple of heads \(12\)/],
    [['--out', 'x', '--layers', '0'], /layers must be a positive integer, got 0/],
    [['--out', 'x', '--bogus'], /Unknown option '--bogus'/],
    [['--out', 'x', '--seed', '-3'], /--seed/],
    [['--out', 'x', '--layers', '48', '--embd', '1600', '--heads', '25'], /one \.onnx file holds at most 2 GB/],
  ];
  for (const [args, message] of cases) {
    const { code, stdout, stderr } = await makeModel(args);
    assert.equal(code, 2, args.join(' '));
    assert.equal(stdout, '');
    assert.match(stderr, message);
    assert.equal(stderr.trimEnd().split('\n').length, 1, `one line for ${args.join(' ')}: ${stderr}`);
  }
  assert.ok(!existsSync('x'), 'nothing written on bad arguments');
});

test('--help prints the usage', async () => {
  const { code, stdout } = await makeModel(['--help']);
  assert.equal(code, 0);
  assert.match(stdout, /^Usage: npm run make-model -- --out DIR/);
});

test('writes a loadable folder with the requested shape', async () => {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'parley-make-model-'));
  try {
    const out = path.join(scratch, 'model');
    const args = ['--out', out, '--layers', '1', '--heads', '2', '--embd', '32', '--positions', '16', '--seed', '3', '--q8'];
    const { code, stdout } = await makeModel(args);
    assert.equal(code, 0);
    assert.match(stdout, /^Wrote .*model \(1 layers, 2 heads, 32 dims, 16 positions, seed 3, with q8\)/);
    const config = JSON.parse(await readFile(path.join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(config['n_positions'], 16);
    assert.ok(existsSync(path.join(out, 'onnx', 'model_quantized.onnx')));
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
});
