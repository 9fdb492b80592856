// The generated GPT-2 folders: the ONNX graphs compute GPT-2 (checked against a plain
// TypeScript forward pass, with and without the KV cache, with left padding), the
// tokenizer is GPT-2's, transformers.js loads and generates, and output is deterministic.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
// float16 feeds on Node 24 (see the module): as the engine does before its first tensor.
import '../../src/engine/float16Feeds.js';
import * as ort from 'onnxruntime-node';
import { encode as gpt3Encode } from 'gpt-3-encoder';
import { AutoModelForCausalLM, AutoTokenizer, LogLevel, Tensor, env } from '@huggingface/transformers';
import { makeModelFolder } from '../../src/graph/makeModelFolder.js';
import { GPT2_VOCAB_SIZE, type Gpt2Dims, generateGpt2Weights } from '../../src/graph/gpt2Weights.js';
import { TINY_MODEL_SHAPE, tinyModelDir } from '../helpers/fixtures.js';
import { type ReferenceInput, type ReferenceOutput, gpt2Reference } from '../helpers/gpt2Reference.js';

const DIMS: Gpt2Dims = { ...TINY_MODEL_SHAPE, vocabSize: GPT2_VOCAB_SIZE };
const HEAD_DIM = DIMS.embd / DIMS.heads;
const END_OF_TEXT = 50256;
/** "The quick brown fox jumps over the" and "Hello world, it is": GPT-2 token ids. */
const FOX = [464, 2068, 7586, 21831, 18045, 625, 262];
const HELLO = [15496, 995, 11, 340, 318];

const weights = generateGpt2Weights(DIMS, TINY_MODEL_SHAPE.seed);
let modelDir: string;
let scratch: string;

before(async () => {
  modelDir = await tinyModelDir();
  scratch = await mkdtemp(path.join(os.tmpdir(), 'parley-modelgen-'));
  env.allowRemoteModels = false;
  env.logLevel = LogLevel.ERROR;
});

after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

// ---- helpers --------------------------------------------------------------------

const int64 = (rows: readonly (readonly number[])[]): ort.Tensor =>
  new ort.Tensor(
    'int64',
    BigInt64Array.from(rows.flat(), (v) => BigInt(v)),
    [rows.length, rows[0].length],
  );

type Cache = Record<string, ort.Tensor>;

function emptyCache(batch: number, type: 'float32' | 'float16' = 'float32'): Cache {
  const cache: Cache = {};
  for (let layer = 0; layer < DIMS.layers; layer++) {
    for (const kind of ['key', 'value']) {
      const data = type === 'float16' ? new Uint16Array(0) : new Float32Array(0);
      cache[`past_key_values.${layer}.${kind}`] = new ort.Tensor(type, data, [batch, DIMS.heads, 0, HEAD_DIM]);
    }
  }
  return cache;
}

interface Step {
  ids: number[][];
  /** The whole mask so far (past + this step). */
  mask: number[][];
  positions: number[][];
  keep?: number;
}

/** One session.run; returns the logits tensor and the cache to feed the next step. */
async function runStep(session: ort.InferenceSession, step: Step, past: Cache): Promise<{ logits: ort.Tensor; cache: Cache }> {
  const out = await session.run({
    input_ids: int64(step.ids),
    attention_mask: int64(step.mask),
    position_ids: int64(step.positions),
    num_logits_to_keep: new ort.Tensor('int64', BigInt64Array.of(BigInt(step.keep ?? 0)), []),
    ...past,
  });
  const cache: Cache = {};
  for (let layer = 0; layer < DIMS.layers; layer++) {
    for (const kind of ['key', 'value']) cache[`past_key_values.${layer}.${kind}`] = out[`present.${layer}.${kind}`];
  }
  return { logits: out['logits'], cache };
}

/** Row `row` of batch `b` of a [batch, rows, vocab] logits tensor. */
function logitsRow(logits: ort.Tensor, b: number, row: number): Float32Array {
  const [, rows, vocab] = logits.dims;
  const data = logits.data as Float32Array;
  const start = (b * rows + row) * vocab;
  return data.subarray(start, start + vocab);
}

function maxAbsDiff(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  assert.equal(actual.length, expected.length);
  let max = 0;
  for (let i = 0; i < actual.length; i++) max = Math.max(max, Math.abs(actual[i] - expected[i]));
  return max;
}

function argmax(values: ArrayLike<number>, except = -1): number {
  let best = -1;
  for (let i = 0; i < values.length; i++) if (i !== except && (best < 0 || values[i] > values[best])) best = i;
  return best;
}

/** Reference for unpadded sequences with positions 0..n-1. */
function reference(sequences: readonly (readonly number[])[]): ReferenceOutput {
  const input: ReferenceInput = {
    inputIds: sequences,
    attentionMask: sequences.map((ids) => ids.map(() => 1)),
    positionIds: sequences.map((ids) => ids.map((_, i) => i)),
  };
  return gpt2Reference(weights, DIMS, input);
}

const TOLERANCE = 1e-4;

function assertRowMatches(actual: Float32Array, expected: Float64Array, what: string): void {
  const diff = maxAbsDiff(actual, expected);
  assert.ok(diff < TOLERANCE, `${what}: max abs diff ${diff}`);
}

async function openSession(file: string, folder = modelDir): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(path.join(folder, 'onnx', file), { intraOpNumThreads: 1 });
}

// ---- the fp32 graph against the reference ----------------------------------------

describe('fp32 graph (onnxruntime) against the TypeScript reference', () => {
  let session: ort.InferenceSession;
  const fox = reference([FOX]);

  before(async () => {
    session = await openSession('model.onnx');
  });
  after(async () => {
    await session.release();
  });

  test('declares the inputs and outputs transformers.js expects', () => {
    const pastNames = Array.from({ length: DIMS.layers }, (_, i) => [`past_key_values.${i}.key`, `past_key_values.${i}.value`]).flat();
    const presentNames = Array.from({ length: DIMS.layers }, (_, i) => [`present.${i}.key`, `present.${i}.value`]).flat();
    assert.deepEqual(
      [...session.inputNames].sort(),
      ['attention_mask', 'input_ids', 'num_logits_to_keep', 'position_ids', ...pastNames].sort(),
    );
    // new_key_values.* (this step's rows only) are Parley's addition; transformers.js ignores them.
    const rowNames = Array.from({ length: DIMS.layers }, (_, i) => [`new_key_values.${i}.key`, `new_key_values.${i}.value`]).flat();
    assert.deepEqual([...session.outputNames].sort(), ['logits', ...presentNames, ...rowNames].sort());
    const pastMeta = session.inputMetadata.find((m) => m.name === 'past_key_values.0.key');
    assert.ok(pastMeta?.isTensor);
    assert.deepEqual(pastMeta.shape, ['batch_size', DIMS.heads, 'past_sequence_length', HEAD_DIM]);
    const rowMeta = session.outputMetadata.find((m) => m.name === 'new_key_values.0.key');
    assert.ok(rowMeta?.isTensor);
    assert.deepEqual(rowMeta.shape, ['batch_size', 'sequence_length', DIMS.embd]);
  });

  test('a full pass gives the reference logits and keys/values', async () => {
    const { logits, cache } = await runStep(
      session,
      { ids: [FOX], mask: [FOX.map(() => 1)], positions: [FOX.map((_, i) => i)] },
      emptyCache(1),
    );
    assert.deepEqual(logits.dims, [1, FOX.length, GPT2_VOCAB_SIZE]);
    FOX.forEach((_, s) => assertRowMatches(logitsRow(logits, 0, s), fox.logits[0][s], `position ${s}`));
    for (let layer = 0; layer < DIMS.layers; layer++) {
      for (const [kind, expected] of [
        ['key', fox.keys],
        ['value', fox.values],
      ] as const) {
        const present = cache[`past_key_values.${layer}.${kind}`];
        assert.deepEqual(present.dims, [1, DIMS.heads, FOX.length, HEAD_DIM]);
        const data = present.data as Float32Array;
        const flatExpected = expected[layer][0].flatMap((head) => head.flatMap((row) => [...row]));
        const diff = maxAbsDiff(data, flatExpected);
        assert.ok(diff < TOLERANCE, `present.${layer}.${kind}: max abs diff ${diff}`);
      }
    }
  });

  test('num_logits_to_keep keeps only the last positions', async () => {
    const { logits } = await runStep(
      session,
      { ids: [FOX], mask: [FOX.map(() => 1)], positions: [FOX.map((_, i) => i)], keep: 2 },
      emptyCache(1),
    );
    assert.deepEqual(logits.dims, [1, 2, GPT2_VOCAB_SIZE]);
    assertRowMatches(logitsRow(logits, 0, 0), fox.logits[0][FOX.length - 2], 'kept row 0');
    assertRowMatches(logitsRow(logits, 0, 1), fox.logits[0][FOX.length - 1], 'kept row 1');
  });

  test('step by step with the KV cache gives the same logits as the full pass', async () => {
    const prefix = 3;
    let { logits, cache } = await runStep(
      session,
      { ids: [FOX.slice(0, prefix)], mask: [Array(prefix).fill(1)], positions: [[0, 1, 2]], keep: 1 },
      emptyCache(1),
    );
    assertRowMatches(logitsRow(logits, 0, 0), fox.logits[0][prefix - 1], 'prefill');
    for (let s = prefix; s < FOX.length; s++) {
      ({ logits, cache } = await runStep(session, { ids: [[FOX[s]]], mask: [Array(s + 1).fill(1)], positions: [[s]], keep: 1 }, cache));
      assert.deepEqual(cache['past_key_values.1.value'].dims, [1, DIMS.heads, s + 1, HEAD_DIM]);
      assertRowMatches(logitsRow(logits, 0, 0), fox.logits[0][s], `step ${s}`);
    }
  });

  test('a left-padded batch row matches the unpadded sequence, in prefill and decode', async () => {
    const pad = FOX.length - HELLO.length;
    const paddedHello = [...Array(pad).fill(END_OF_TEXT), ...HELLO];
    const helloMask = [...Array(pad).fill(0), ...HELLO.map(() => 1)];
    // Position ids as transformers.js makes them: cumulative mask - 1, padding at 1.
    const helloPositions = [...Array(pad).fill(1), ...HELLO.map((_, i) => i)];
    const prefill = await runStep(
      session,
      {
        ids: [FOX, paddedHello],
        mask: [FOX.map(() => 1), helloMask],
        positions: [FOX.map((_, i) => i), helloPositions],
      },
      emptyCache(2),
    );
    const expected = reference([FOX, HELLO]);
    FOX.forEach((_, s) => assertRowMatches(logitsRow(prefill.logits, 0, s), expected.logits[0][s], `fox ${s}`));
    HELLO.forEach((_, s) => assertRowMatches(logitsRow(prefill.logits, 1, pad + s), expected.logits[1][s], `padded hello ${s}`));

    const next = [[FOX[0]], [HELLO[0]]];
    const decode = await runStep(
      session,
      {
        ids: next,
        mask: [
          [...FOX.map(() => 1), 1],
          [...helloMask, 1],
        ],
        positions: [[FOX.length], [HELLO.length]],
        keep: 1,
      },
      prefill.cache,
    );
    const extended = reference([
      [...FOX, FOX[0]],
      [...HELLO, HELLO[0]],
    ]);
    assertRowMatches(logitsRow(decode.logits, 0, 0), extended.logits[0][FOX.length], 'fox decode');
    assertRowMatches(logitsRow(decode.logits, 1, 0), extended.logits[1][HELLO.length], 'padded hello decode');
  });
});

describe('q8 graph (onnxruntime)', () => {
  test('stays close to the fp32 reference and mostly agrees on the top token', async () => {
    const session = await openSession('model_quantized.onnx');
    try {
      const fox = reference([FOX]);
      const { logits } = await runStep(session, { ids: [FOX], mask: [FOX.map(() => 1)], positions: [FOX.map((_, i) => i)] }, emptyCache(1));
      let agreeing = 0;
      FOX.forEach((_, s) => {
        const actual = logitsRow(logits, 0, s);
        const expected = fox.logits[0][s];
        const spread = Math.max(...expected) - Math.min(...expected);
        const diff = maxAbsDiff(actual, expected);
        assert.ok(diff < 0.02 * spread, `position ${s}: max abs diff ${diff} vs logit spread ${spread}`);
        if (argmax(actual) === argmax(expected)) agreeing++;
      });
      assert.ok(agreeing >= FOX.length - 1, `top token agrees at ${agreeing}/${FOX.length} positions`);
    } finally {
      await session.release();
    }
  });
});

describe('float16 KV cache (maths in fp32)', () => {
  let session: ort.InferenceSession;

  before(async () => {
    const folder = path.join(scratch, 'kv16');
    await makeModelFolder({ out: folder, ...TINY_MODEL_SHAPE, kvCache: 'float16' });
    session = await openSession('model.onnx', folder);
  });
  after(async () => {
    await session.release();
  });

  test('past and present are float16 at the graph boundary', () => {
    const past = session.inputMetadata.find((m) => m.name === 'past_key_values.0.key');
    const present = session.outputMetadata.find((m) => m.name === 'present.1.value');
    assert.ok(past?.isTensor && present?.isTensor);
    assert.equal(past.type, 'float16');
    assert.equal(present.type, 'float16');
    assert.deepEqual(past.shape, ['batch_size', DIMS.heads, 'past_sequence_length', HEAD_DIM]);
  });

  test('step by step stays within fp16 rounding of the reference and picks the same top tokens', async () => {
    const fox = reference([FOX]);
    let { logits, cache } = await runStep(
      session,
      { ids: [FOX.slice(0, 2)], mask: [[1, 1]], positions: [[0, 1]], keep: 1 },
      emptyCache(1, 'float16'),
    );
    for (let s = 2; s <= FOX.length; s++) {
      const expected = fox.logits[0][s - 1];
      const actual = logitsRow(logits, 0, 0);
      const spread = Math.max(...expected) - Math.min(...expected);
      const diff = maxAbsDiff(actual, expected);
      assert.ok(diff < 0.005 * spread, `position ${s - 1}: max abs diff ${diff} vs logit spread ${spread}`);
      assert.equal(argmax(actual), argmax(expected), `position ${s - 1}: top token`);
      if (s === FOX.length) break;
      ({ logits, cache } = await runStep(session, { ids: [[FOX[s]]], mask: [Array(s + 1).fill(1)], positions: [[s]], keep: 1 }, cache));
      assert.equal(cache['past_key_values.0.key'].type, 'float16');
      assert.deepEqual(cache['past_key_values.0.key'].dims, [1, DIMS.heads, s + 1, HEAD_DIM]);
    }
  });
});

// ---- transformers.js ---------------------------------------------------------------

const TEXTS = [
  'Hello, world!',
  'The quick brown fox jumps over the lazy dog.',
  '  leading spaces, trailing spaces   ',
  'line one\nline two\n\n\ttabbed',
  "It's we've they'll I'm you'd",
  'Numbers 12345 and 3.14159, symbols #@$%^&*()',
  'Ünïcödé façade, naïve café, Straße',
  '日本語のテキスト、中文文本, 한국어',
  'Emoji 👍🏽 🎉🚀 👨‍👩‍👧‍👦 and flags 🇫🇷',
  'مرحبا بالعالم שלום',
  'code: const x = arr.map((v) => v * 2); // ok',
  '',
];

describe('tokenizer.json', () => {
  test('transformers.js encodes exactly like gpt-3-encoder and decodes back', async () => {
    const tokenizer = await AutoTokenizer.from_pretrained(modelDir);
    for (const text of TEXTS) {
      const ids = tokenizer.encode(text);
      assert.deepEqual(ids, gpt3Encode(text), JSON.stringify(text));
      // transformers.js refuses to decode an empty id list.
      if (ids.length > 0) assert.equal(tokenizer.decode(ids), text, JSON.stringify(text));
    }
    assert.deepEqual(tokenizer.encode('a<|endoftext|>b'), [64, END_OF_TEXT, 65], 'the special token is one id');
    assert.equal(tokenizer.decode([64, END_OF_TEXT, 65], { skip_special_tokens: true }), 'ab');
  });
});

describe('transformers.js loads the folder', () => {
  const prompt = 'The quick brown fox';
  const newTokens = 5;

  async function greedyGenerate(dtype: 'fp32' | 'q8'): Promise<number[]> {
    const tokenizer = await AutoTokenizer.from_pretrained(modelDir);
    const model = await AutoModelForCausalLM.from_pretrained(modelDir, { dtype });
    try {
      const inputs = tokenizer(prompt);
      const output = await model.generate({
        ...inputs,
        max_new_tokens: newTokens,
        min_new_tokens: newTokens,
        do_sample: false,
      });
      assert.ok(output instanceof Tensor);
      return Array.from(output.data as BigInt64Array, Number);
    } finally {
      await model.dispose();
    }
  }

  test('fp32 greedy generate matches the reference greedy decode', async () => {
    const ids = gpt3Encode(prompt);
    const expected = [...ids];
    for (let i = 0; i < newTokens; i++) {
      const { logits } = reference([expected]);
      // min_new_tokens keeps <|endoftext|> from being picked.
      expected.push(argmax(logits[0][expected.length - 1], END_OF_TEXT));
    }
    assert.deepEqual(await greedyGenerate('fp32'), expected);
  });

  test('q8 generate runs', async () => {
    const ids = await greedyGenerate('q8');
    assert.equal(ids.length, gpt3Encode(prompt).length + newTokens);
  });
});

// ---- the folder itself ---------------------------------------------------------------

describe('makeModelFolder', () => {
  const small = { layers: 1, heads: 2, embd: 32, positions: 64, q8: true };

  async function filesOf(folder: string): Promise<Map<string, Buffer>> {
    const files = new Map<string, Buffer>();
    for (const entry of await readdir(folder, { recursive: true, withFileTypes: true })) {
      if (!entry.isFile()) continue;
      const full = path.join(entry.parentPath, entry.name);
      files.set(path.relative(folder, full), await readFile(full));
    }
    return files;
  }

  test('the same seed gives byte-identical files, another seed other weights', async () => {
    const first = path.join(scratch, 'first');
    const second = path.join(scratch, 'second');
    const other = path.join(scratch, 'other');
    await makeModelFolder({ out: first, seed: 7, ...small });
    await makeModelFolder({ out: second, seed: 7, ...small });
    await makeModelFolder({ out: other, seed: 8, ...small });
    const a = await filesOf(first);
    const b = await filesOf(second);
    assert.deepEqual([...a.keys()].sort(), [
      'config.json',
      'generation_config.json',
      'onnx/model.onnx',
      'onnx/model.onnx_data',
      'onnx/model_quantized.onnx',
      'onnx/model_quantized.onnx_data',
      'tokenizer.json',
      'tokenizer_config.json',
    ]);
    for (const [name, bytes] of a) assert.ok(bytes.equals(b.get(name) ?? Buffer.alloc(0)), `${name} differs`);
    const c = await filesOf(other);
    assert.ok(!a.get('onnx/model.onnx')?.equals(c.get('onnx/model.onnx') ?? Buffer.alloc(0)));
  });

  test('config.json describes the model and flags its random weights', async () => {
    const config = JSON.parse(await readFile(path.join(modelDir, 'config.json'), 'utf8')) as Record<string, unknown>;
    assert.equal(config['model_type'], 'gpt2');
    assert.deepEqual(config['architectures'], ['GPT2LMHeadModel']);
    assert.equal(config['n_layer'], DIMS.layers);
    assert.equal(config['n_head'], DIMS.heads);
    assert.equal(config['n_embd'], DIMS.embd);
    assert.equal(config['n_positions'], DIMS.positions);
    assert.equal(config['vocab_size'], GPT2_VOCAB_SIZE);
    assert.equal(config['eos_token_id'], END_OF_TEXT);
    assert.equal(config['parley_random_weights'], true);
  });

  test('rejects impossible shapes with a clear message', async () => {
    await assert.rejects(makeModelFolder({ out: path.join(scratch, 'bad'), seed: 1, ...small, embd: 30, heads: 4 }), {
      message: 'embd (30) must be a multiple of heads (4)',
    });
    await assert.rejects(makeModelFolder({ out: path.join(scratch, 'bad'), seed: 1, ...small, layers: 0 }), {
      message: 'layers must be a positive integer, got 0',
    });
  });
});
