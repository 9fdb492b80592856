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

test('--arch llama|qwen2: options that cannot make a model fail with one line', async () => {
  const cases: [string[], RegExp][] = [
    [['--out', 'x', '--arch', 'mistral'], /--arch must be gpt2, llama or qwen2, got "mistral"/],
    [['--out', 'x', '--arch', 'llama', '--kv-heads', '4'], /heads \(9\) must be a multiple of kv heads \(4\)/],
    [['--out', 'x', '--arch', 'llama', '--head-dim', '63'], /head dim \(63\) must be even/],
    [['--out', 'x', '--arch', 'qwen2', '--shape', 'gpt5'], /--shape must be one of smollm2-135m, qwen2.5-0.5b, got "gpt5"/],
    [['--out', 'x', '--arch', 'llama', '--vocab', '100'], /vocab must be at least 261, got 100/],
    [['--out', 'x', '--arch', 'llama', '--rope-theta', 'big'], /--rope-theta must be a number, got "big"/],
    [['--out', 'x', '--arch', 'llama', '--tied', '--untied'], /--tied and --untied contradict each other/],
    [['--out', 'x', '--arch', 'llama', '--embd', '64'], /--embd is for --arch gpt2 \(use --hidden\)/],
    [['--out', 'x', '--kv-heads', '2'], /--kv-heads is for --arch llama or qwen2/],
    [
      ['--out', 'x', '--arch', 'llama', '--layers', '40', '--hidden', '2048', '--inner', '8192', '--heads', '16'],
      /one \.onnx file holds at most 2 GB/,
    ],
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

test('--arch qwen2 writes a Qwen2 folder: its config, a tokenizer cut to the vocabulary with ChatML tokens, its chat template', async () => {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'parley-make-model-'));
  try {
    const out = path.join(scratch, 'model');
    const args = ['--out', out, '--arch', 'qwen2', '--layers', '1', '--heads', '4', '--kv-heads', '2', '--hidden', '32', '--inner', '48'];
    const { code, stdout } = await makeModel([...args, '--vocab', '1000', '--positions', '128', '--untied', '--q4']);
    assert.equal(code, 0);
    assert.match(stdout, /qwen2: 1 layers, 4 heads, 2 KV heads, head dim 8, hidden 32, inner 48, vocab 1000, untied, seed 1, with q4/);
    const config = JSON.parse(await readFile(path.join(out, 'config.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(config['model_type'], 'qwen2');
    assert.equal(config['num_key_value_heads'], 2);
    assert.equal(config['tie_word_embeddings'], false);
    assert.equal(config['eos_token_id'], 999); // <|im_end|>, the last of the three special tokens after the 997 kept
    const tokenizer = JSON.parse(await readFile(path.join(out, 'tokenizer.json'), 'utf8')) as { model: { vocab: Record<string, number> } };
    assert.equal(Object.keys(tokenizer.model.vocab).length, 1000);
    assert.equal(Math.max(...Object.values(tokenizer.model.vocab)), 999);
    const tokenizerConfig = JSON.parse(await readFile(path.join(out, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
    assert.match(String(tokenizerConfig['chat_template']), /<\|im_start\|>/);
    assert.ok(existsSync(path.join(out, 'onnx', 'model_q4.onnx')));
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
});
