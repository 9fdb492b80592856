// The GGUF writer of bench:peers: header, metadata and tensor table as llama.cpp reads them,
// and the Q8_0 / Q4_0 blocks and fp16 scales it writes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { quantizeQ4_0, quantizeQ8_0 } from '../../../scripts/gguf/ggufFile.js';
import { writeGpt2Gguf } from '../../../scripts/gguf/gpt2Gguf.js';
import { floatToHalf as toHalf, halfToFloat as fromHalf } from '../../../src/graph/halfFloat.js';
import { generatedParams } from '../../../src/graph/makeModelFolder.js';
import { tinyModelDir, TINY_MODEL_SHAPE } from '../../helpers/fixtures.js';
import { readGguf } from '../../helpers/ggufReader.js';

test('fp16: exact values stay exact, others round to the nearest half', () => {
  for (const v of [0, 1, -2, 0.5, 65504, 2 ** -14, -(2 ** -24)]) assert.equal(fromHalf(toHalf(v)), v);
  assert.equal(fromHalf(toHalf(0.1)), 0.0999755859375);
  assert.equal(toHalf(1e6), 0x7c00);
});

test('Q8_0 and Q4_0 blocks dequantize close to the values', () => {
  const values = Float32Array.from({ length: 64 }, (_, i) => Math.sin(i) * 3);
  const q8 = quantizeQ8_0(values, 64);
  assert.equal(q8.byteLength, 2 * 34);
  const q4 = quantizeQ4_0(values, 64);
  assert.equal(q4.byteLength, 2 * 18);
  const view8 = new DataView(q8.buffer);
  const view4 = new DataView(q4.buffer);
  for (let b = 0; b < 2; b++) {
    const d8 = fromHalf(view8.getUint16(b * 34, true));
    const d4 = fromHalf(view4.getUint16(b * 18, true));
    for (let i = 0; i < 32; i++) {
      const x = values[b * 32 + i]!;
      assert.ok(Math.abs(view8.getInt8(b * 34 + 2 + i) * d8 - x) <= d8 / 2 + 1e-3);
      const byte = q4[b * 18 + 2 + (i % 16)]!;
      const q = i < 16 ? byte & 15 : byte >> 4;
      assert.ok(Math.abs((q - 8) * d4 - x) <= Math.abs(d4) + 1e-3, `Q4_0 element ${i}`);
    }
  }
});

test('a GPT-2 GGUF: v3 header, gpt2 metadata, the tensors llama.cpp expects, no untied LM head', async () => {
  const scratch = await mkdtemp(path.join(os.tmpdir(), 'parley-gguf-'));
  try {
    const { dims, param } = generatedParams(TINY_MODEL_SHAPE);
    const file = path.join(scratch, 'tiny.gguf');
    await writeGpt2Gguf(file, dims, param, 'Q8_0', await tinyModelDir());
    const bytes = await readFile(file);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    assert.equal(bytes.subarray(0, 4).toString('latin1'), 'GGUF');
    assert.equal(view.getUint32(4, true), 3);
    const tensors = Number(view.getBigUint64(8, true));
    assert.equal(tensors, 2 + 12 * dims.layers + 2);
    const text = bytes.toString('latin1');
    for (const key of ['general.architecture', 'gpt2.block_count', 'gpt2.attention.layer_norm_epsilon', 'tokenizer.ggml.merges']) {
      assert.ok(text.includes(key), key);
    }
    assert.ok(text.includes('blk.1.ffn_down.weight'));
    // Tensor names are GGUF strings (u64 length, bytes): no separate LM head, it is tied.
    assert.ok(text.includes('\x12\0\0\0\0\0\0\0output_norm.weight'));
    assert.ok(!text.includes('\x0d\0\0\0\0\0\0\0output.weight'), 'the LM head is the tied token embedding');
    const read = readGguf(bytes);
    assert.equal(read.meta.get('gpt2.block_count'), dims.layers);
    assert.equal(read.meta.get('tokenizer.ggml.add_bos_token'), false);
    assert.equal(read.meta.get('tokenizer.ggml.eos_token_id'), 50256);
    assert.deepEqual(read.tensors.get('blk.0.attn_qkv.weight')?.ne, [dims.embd, 3 * dims.embd]);
    assert.equal(read.tensors.get('blk.0.attn_qkv.weight')?.type, 'Q8_0');
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
});
