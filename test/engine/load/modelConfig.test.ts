import { test } from 'node:test';
import assert from 'node:assert/strict';
import type * as ort from 'onnxruntime-node';
import { inspectDecoderGraph, UnsupportedGraphError } from '../../../src/engine/decode/decoderSession.js';
import { contextLengthOf, endTokenIds, kvShape, unsupportedReason } from '../../../src/engine/load/modelConfig.js';
import { DEFAULT_ORDER, dtypesPresent, onnxFileFor, pickDtype } from '../../../src/hub/dtypeFiles.js';
import { ALIAS_DTYPES, MODEL_ALIASES, resolveModelRef, unknownModelMessage } from '../../../src/engine/load/modelRefs.js';
import { specialStopIds } from '../../../src/engine/reply/stopSequences.js';

test('KV shape: num_key_value_heads and head_dim when given, else the query heads and hidden / heads', () => {
  assert.deepEqual(kvShape({ num_hidden_layers: 24, num_attention_heads: 14, num_key_value_heads: 2, hidden_size: 896 }), {
    layers: 24,
    kvHeads: 2,
    headDim: 64,
  });
  assert.deepEqual(kvShape({ num_hidden_layers: 16, num_attention_heads: 32, num_key_value_heads: 8, hidden_size: 2048, head_dim: 64 }), {
    layers: 16,
    kvHeads: 8,
    headDim: 64,
  });
  assert.deepEqual(kvShape({ n_layer: 12, n_head: 12, n_embd: 768 }), { layers: 12, kvHeads: 12, headDim: 64 });
  assert.equal(kvShape({ hidden_size: 16 }), null);
  assert.equal(contextLengthOf({ n_positions: 1024 }), 1024);
  assert.equal(contextLengthOf({ max_position_embeddings: 32768 }), 32768);
});

test('end ids: config, generation config (a list) and the tokenizer eos, once each', () => {
  assert.deepEqual(endTokenIds({ eos_token_id: 50258 }, { eos_token_id: [50258, 50256] }, 50258), [50258, 50256]);
  assert.deepEqual(endTokenIds({ eos_token_id: [128001, 128008, 128009] }, null, 128009), [128001, 128008, 128009]);
  assert.deepEqual(endTokenIds({}, { eos_token_id: 2 }, null), [2]);
  assert.deepEqual(endTokenIds({ eos_token_id: null }, null, null), []);
});

test('architectures Parley cannot drive are named', () => {
  assert.match(unsupportedReason({ is_encoder_decoder: true, model_type: 'bart' }) ?? '', /encoder-decoder model \(bart\)/);
  assert.equal(unsupportedReason({ model_type: 'qwen2' }), null);
});

test('dtype: the chosen file or a refusal; without a choice, what the folder has', () => {
  const has =
    (...dtypes: string[]) =>
    (file: string) =>
      dtypes.some((d) => onnxFileFor(d as never) === file);
  const dtypeOf = (picked: ReturnType<typeof pickDtype>) => picked?.dtype ?? null;
  assert.equal(dtypeOf(pickDtype('q4', true, has('fp32', 'q4'))), 'q4');
  assert.equal(pickDtype('q4', true, has('fp32')), null);
  assert.equal(dtypeOf(pickDtype('fp32', false, has('q4', 'q4f16', 'fp16'))), 'q4');
  assert.equal(dtypeOf(pickDtype('fp32', false, has('q4f16'))), 'q4f16');
  assert.equal(pickDtype('fp32', false, has()), null);
  assert.equal(DEFAULT_ORDER[0], 'fp32');
});

test('dtype: the pre-v3 names (decoder_model_merged*.onnx) are read when the current ones are missing', () => {
  const legacy = new Set([
    'onnx/decoder_model.onnx',
    'onnx/decoder_with_past_model.onnx',
    'onnx/decoder_model_merged.onnx',
    'onnx/decoder_model_merged_quantized.onnx',
    'onnx/decoder_with_past_model_uint8.onnx',
  ]);
  const has = (file: string) => legacy.has(file);
  assert.deepEqual(pickDtype('fp32', true, has), { dtype: 'fp32', file: 'onnx/decoder_model_merged.onnx', stem: 'decoder_model_merged' });
  assert.deepEqual(pickDtype('q8', true, has), {
    dtype: 'q8',
    file: 'onnx/decoder_model_merged_quantized.onnx',
    stem: 'decoder_model_merged',
  });
  // decoder_with_past_model_uint8.onnx is not a file Parley loads: uint8 is not there.
  assert.equal(pickDtype('uint8', true, has), null);
  assert.deepEqual(dtypesPresent(has), ['fp32', 'q8']);
  // Both namings: the current one wins.
  const both = (file: string) => has(file) || file === 'onnx/model.onnx';
  assert.equal(pickDtype('fp32', true, both)?.file, 'onnx/model.onnx');
});

test('instruct aliases resolve to the hub ids transformers.js uses, with their default dtype', () => {
  assert.deepEqual(resolveModelRef('qwen2.5', '/cwd', '/home'), { kind: 'hub', id: 'onnx-community/Qwen2.5-0.5B-Instruct', dtype: 'q8' });
  assert.deepEqual(resolveModelRef('llama3.2', '/cwd', '/home'), { kind: 'hub', id: 'onnx-community/Llama-3.2-1B-Instruct', dtype: 'q8' });
  assert.equal(MODEL_ALIASES['smollm2'], 'HuggingFaceTB/SmolLM2-135M-Instruct');
  assert.equal(MODEL_ALIASES['smollm2-360m'], 'HuggingFaceTB/SmolLM2-360M-Instruct');
  assert.deepEqual(resolveModelRef('gpt2', '/cwd', '/home'), { kind: 'hub', id: 'Xenova/gpt2' });
  for (const alias of Object.keys(ALIAS_DTYPES)) assert.ok(alias in MODEL_ALIASES);
});

test('stops that are special tokens become ids; plain text stops do not', () => {
  const specials = [
    { content: '<|endoftext|>', id: 50256 },
    { content: '<|im_start|>', id: 50257 },
    { content: '<|im_end|>', id: 50258 },
  ];
  assert.deepEqual(specialStopIds(['<|im_end|>', '<|im_start|>', '\nUser:'], specials), [50257, 50258]);
  assert.deepEqual(specialStopIds(['\nUser:'], specials), []);
});

/** Just what inspectDecoderGraph reads of an onnxruntime session. */
function fakeSession(
  inputs: string[],
  outputs: string[],
  pastShape: (number | string)[] = ['batch_size', 'num_kv', 'past', 'head'],
): ort.InferenceSession {
  const meta = (name: string) => ({
    name,
    isTensor: true,
    type: 'float32',
    shape: name.startsWith('past') ? pastShape : ['batch_size', 'sequence_length'],
  });
  return {
    inputNames: inputs,
    outputNames: outputs,
    inputMetadata: inputs.map(meta),
    outputMetadata: outputs.map(meta),
  } as unknown as ort.InferenceSession;
}
const PAST = ['past_key_values.0.key', 'past_key_values.0.value'];
const PRESENT = ['present.0.key', 'present.0.value'];

test('a graph whose past dims are symbolic takes the KV shape from config.json', () => {
  const graph = inspectDecoderGraph(fakeSession(['input_ids', 'attention_mask', ...PAST], ['logits', ...PRESENT]), {
    layers: 1,
    kvHeads: 2,
    headDim: 64,
  });
  assert.equal(graph.heads, 2);
  assert.equal(graph.headDim, 64);
  assert.equal(graph.hasPositionIds, false, 'no position_ids input: none fed');
  const declared = inspectDecoderGraph(fakeSession(['input_ids', ...PAST, 'use_cache_branch'], ['logits', ...PRESENT], [1, 3, 'past', 8]), {
    layers: 1,
    kvHeads: 2,
    headDim: 64,
  });
  assert.deepEqual([declared.heads, declared.headDim, declared.hasAttentionMask, declared.hasUseCacheBranch], [3, 8, false, true]);
});

test('graphs Parley cannot drive are refused with what is missing', () => {
  const shape = { layers: 1, kvHeads: 2, headDim: 4 };
  assert.throws(
    () => inspectDecoderGraph(fakeSession(['input_ids', 'attention_mask'], ['logits']), shape),
    (err: unknown) => {
      assert.ok(err instanceof UnsupportedGraphError);
      assert.match(err.message, /no KV cache \(no past_key_values\.N\.key\/value inputs\)/);
      return true;
    },
  );
  assert.throws(
    () => inspectDecoderGraph(fakeSession(['input_ids', 'encoder_hidden_states', ...PAST], ['logits', ...PRESENT]), shape),
    /needs inputs Parley does not feed \(encoder_hidden_states\)/,
  );
  assert.throws(
    () => inspectDecoderGraph(fakeSession(['pixel_values'], ['logits']), shape),
    /needs an input_ids input and a logits output/,
  );
});

test('a bare name that is no alias and no folder here is an unknown model, with the nearest aliases and the list', () => {
  const qwen = unknownModelMessage('qwen', false);
  assert.match(
    qwen ?? '',
    /^unknown model "qwen": not an alias, a hub id \(owner\/name\) or a folder here; did you mean qwen2\.5\? aliases: demo, gpt2, distilgpt2, /,
  );
  assert.match(unknownModelMessage('nonexistent', false) ?? '', /^unknown model "nonexistent": .*; aliases: demo, gpt2/);
  assert.doesNotMatch(unknownModelMessage('nonexistent', false) ?? '', /did you mean/);
  assert.match(unknownModelMessage('gtp2', false) ?? '', /did you mean gpt2\?/);
  // A folder that exists, a path, an alias or a hub id is not "unknown".
  assert.equal(unknownModelMessage('qwen', true), null);
  assert.equal(unknownModelMessage('./qwen', false), null);
  assert.equal(unknownModelMessage('models/qwen', false), null);
  assert.equal(unknownModelMessage('gpt2', false), null);
});
