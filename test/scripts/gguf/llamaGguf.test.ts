// The Llama-family GGUF writer of bench:peers: llama.cpp's tensor names and shapes for `llama`
// and `qwen2`, Q/K rows interleaved for `llama` only (checked against the rotations themselves),
// rope_freqs for llama3 scaling, and the model's own tokenizer padded to vocab_size.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { transposed } from '../../../scripts/gguf/ggufFile.js';
import { interleaveRotaryRows, ropeFreqFactors, writeLlamaGguf } from '../../../scripts/gguf/llamaGguf.js';
import { type LlamaDims, generateLlamaParam, llamaParamSpecs, rotaryInverseFrequencies } from '../../../src/graph/llamaWeights.js';
import { HF_LLAMA_TINY, HF_QWEN2_TINY } from '../../helpers/fixtures.js';
import { f32Tensor, readGguf } from '../../helpers/ggufReader.js';

const FIXTURE_VOCAB = 50261;
const LLAMA3_SCALING = { factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192 };

function dimsFor(arch: LlamaDims['arch'], overrides: Partial<LlamaDims> = {}): LlamaDims {
  return {
    arch,
    layers: 2,
    heads: 4,
    kvHeads: 2,
    headDim: 16,
    hidden: 64,
    inner: 96,
    vocabSize: FIXTURE_VOCAB + 3,
    positions: 256,
    rmsNormEps: 1e-5,
    ropeTheta: 500000,
    qkvBias: arch === 'qwen2',
    tied: true,
    ...overrides,
  };
}

function paramsOf(dims: LlamaDims): (name: string) => Float32Array {
  const specs = new Map(llamaParamSpecs(dims).map((s) => [s.name, s]));
  return (name) => {
    const spec = specs.get(name);
    if (!spec) throw new Error(`no parameter ${name}`);
    return generateLlamaParam(spec, 3);
  };
}

async function written(dims: LlamaDims, type: 'F32' | 'Q8_0' | 'Q4_0', tokenizer: string) {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'parley-gguf-llama-'));
  try {
    const file = path.join(scratch, 'model.gguf');
    await writeLlamaGguf(file, dims, paramsOf(dims), type, tokenizer);
    const bytes = new Uint8Array(await readFile(file));
    return { bytes, ...readGguf(bytes) };
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** Hugging Face's rotate_half rotary on one head: dimension i pairs with i + half. */
function rotateHalfSplit(x: Float32Array, angles: Float64Array): Float32Array {
  const half = x.length / 2;
  const out = new Float32Array(x.length);
  for (let i = 0; i < half; i++) {
    const [c, s] = [Math.cos(angles[i]!), Math.sin(angles[i]!)];
    out[i] = x[i]! * c - x[i + half]! * s;
    out[i + half] = x[i + half]! * c + x[i]! * s;
  }
  return out;
}

/** llama.cpp's rotary for `llama` (GGML_ROPE_TYPE_NORM): dimension 2i pairs with 2i + 1. */
function rotateAdjacent(x: Float32Array, angles: Float64Array): Float32Array {
  const out = new Float32Array(x.length);
  for (let i = 0; i < x.length / 2; i++) {
    const [c, s] = [Math.cos(angles[i]!), Math.sin(angles[i]!)];
    out[2 * i] = x[2 * i]! * c - x[2 * i + 1]! * s;
    out[2 * i + 1] = x[2 * i + 1]! * c + x[2 * i]! * s;
  }
  return out;
}

test('interleaved rows rotated as llama.cpp rotates them give the interleaved Hugging Face rotation', () => {
  const headDim = 8;
  const heads = 3;
  const x = Float32Array.from({ length: heads * headDim }, (_, i) => Math.sin(i * 1.7) + i / 10);
  const freqs = rotaryInverseFrequencies({ headDim, ropeTheta: 10000 });
  const angles = freqs.map((f) => 5 * f);
  const permuted = interleaveRotaryRows(x, heads, 1);
  for (let h = 0; h < heads; h++) {
    const head = (v: Float32Array): Float32Array => v.subarray(h * headDim, (h + 1) * headDim);
    const expected = interleaveRotaryRows(rotateHalfSplit(head(x), angles), 1, 1);
    const actual = rotateAdjacent(head(permuted), angles);
    for (let i = 0; i < headDim; i++) assert.ok(Math.abs(actual[i]! - expected[i]!) < 1e-5, `head ${h} dim ${i}`);
  }
  // Whole rows move together.
  const rows = Float32Array.from({ length: 4 * 3 }, (_, i) => i);
  assert.deepEqual([...interleaveRotaryRows(rows, 1, 3)], [0, 1, 2, 6, 7, 8, 3, 4, 5, 9, 10, 11]);
  assert.throws(() => interleaveRotaryRows(new Float32Array(6), 1, 2), /heads of even size/);
});

test('rope_freqs: 1 where llama3 keeps a frequency, the factor where it divides one', () => {
  const factors = ropeFreqFactors({ headDim: 64, ropeTheta: 500000, ropeScaling: LLAMA3_SCALING });
  assert.equal(factors.length, 32);
  assert.equal(factors[0], 1);
  assert.ok(Math.abs(factors[31]! - 32) < 1e-4);
  assert.ok(
    factors.every((f, i) => i === 0 || f >= factors[i - 1]! - 1e-6),
    'non-decreasing',
  );
  assert.ok([...ropeFreqFactors({ headDim: 64, ropeTheta: 500000 })].every((f) => f === 1));
});

test('a llama GGUF: names, shapes, Q/K interleaved, untied head, rope_freqs, the fixture tokenizer with bos', async () => {
  const dims = dimsFor('llama', { tied: false, ropeScaling: LLAMA3_SCALING });
  const params = paramsOf(dims);
  const { bytes, meta, tensors } = await written(dims, 'F32', HF_LLAMA_TINY);
  assert.equal(meta.get('general.architecture'), 'llama');
  assert.equal(meta.get('llama.block_count'), 2);
  assert.equal(meta.get('llama.attention.head_count_kv'), 2);
  assert.equal(meta.get('llama.rope.dimension_count'), 16);
  assert.ok(Math.abs((meta.get('llama.attention.layer_norm_rms_epsilon') as number) - 1e-5) < 1e-10);
  assert.equal(tensors.size, 1 + 1 + 9 * 2 + 1 + 1);
  assert.deepEqual(tensors.get('blk.1.attn_k.weight')?.ne, [64, 32]);
  assert.deepEqual(tensors.get('blk.1.ffn_down.weight')?.ne, [96, 64]);
  assert.deepEqual(tensors.get('output.weight')?.ne, [64, FIXTURE_VOCAB + 3]);
  assert.equal(tensors.has('blk.0.attn_q.bias'), false);
  const q = f32Tensor(bytes, tensors.get('blk.0.attn_q.weight')!);
  assert.deepEqual(q, interleaveRotaryRows(transposed(params('model.layers.0.self_attn.q_proj.weight'), 64, 64), 4, 64));
  const k = f32Tensor(bytes, tensors.get('blk.1.attn_k.weight')!);
  assert.deepEqual(k, interleaveRotaryRows(transposed(params('model.layers.1.self_attn.k_proj.weight'), 64, 32), 2, 64));
  const v = f32Tensor(bytes, tensors.get('blk.1.attn_v.weight')!);
  assert.deepEqual(v, transposed(params('model.layers.1.self_attn.v_proj.weight'), 64, 32), 'V is not rotated');
  assert.deepEqual(f32Tensor(bytes, tensors.get('rope_freqs.weight')!), ropeFreqFactors(dims));

  const tokens = meta.get('tokenizer.ggml.tokens') as string[];
  assert.equal(tokens.length, FIXTURE_VOCAB + 3);
  assert.equal(tokens[FIXTURE_VOCAB], `[PAD${FIXTURE_VOCAB}]`);
  assert.equal((meta.get('tokenizer.ggml.token_type') as number[])[FIXTURE_VOCAB], 5);
  assert.equal(tokens[50257], '<|begin_of_text|>');
  assert.equal(meta.get('tokenizer.ggml.bos_token_id'), 50257);
  assert.equal(meta.get('tokenizer.ggml.add_bos_token'), true, 'the fixture post-processor prepends <|begin_of_text|>');
  assert.equal(meta.get('tokenizer.ggml.eos_token_id'), 50260);
});

test('a qwen2 GGUF: q/k/v biases, Q/K as they are (NeoX), a tied head in Q8_0 when the rest is Q4_0', async () => {
  const dims = dimsFor('qwen2', { vocabSize: FIXTURE_VOCAB - 2 });
  const params = paramsOf(dims);
  const { bytes, meta, tensors } = await written(dims, 'Q4_0', HF_QWEN2_TINY);
  assert.equal(meta.get('general.architecture'), 'qwen2');
  assert.equal(tensors.has('output.weight'), false);
  assert.equal(tensors.has('rope_freqs.weight'), false);
  assert.equal(tensors.get('token_embd.weight')?.type, 'Q8_0');
  assert.equal(tensors.get('blk.0.ffn_gate.weight')?.type, 'Q4_0');
  assert.deepEqual(f32Tensor(bytes, tensors.get('blk.0.attn_q.bias')!), params('model.layers.0.self_attn.q_proj.bias'));
  assert.equal(meta.get('tokenizer.ggml.add_bos_token'), false);
  assert.equal((meta.get('tokenizer.ggml.tokens') as string[])[meta.get('tokenizer.ggml.eos_token_id') as number], '<|im_end|>');
  await assert.rejects(written(dimsFor('qwen2', { vocabSize: 100 }), 'F32', HF_QWEN2_TINY), /more than vocab_size 100/);
  await assert.rejects(written(dimsFor('qwen2', { ropeScaling: LLAMA3_SCALING }), 'F32', HF_QWEN2_TINY), /llama arch only/);
});
