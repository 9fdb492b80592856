import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configParameterCount } from '../../src/graph/parameterCount.js';

// The published models' counts, as transformers' num_parameters() gives them.
test('GPT-2 small and distilgpt2 count as transformers counts them', () => {
  const gpt2 = { model_type: 'gpt2', n_layer: 12, n_head: 12, n_embd: 768, n_positions: 1024, vocab_size: 50257, n_inner: null };
  assert.equal(configParameterCount(gpt2), 124_439_808);
  assert.equal(configParameterCount({ ...gpt2, n_layer: 6 }), 81_912_576);
});

test('SmolLM2-135M (tied, grouped-query) and Qwen2.5-0.5B (q/k/v biases, tied) count as transformers counts them', () => {
  const smollm2 = {
    model_type: 'llama',
    num_hidden_layers: 30,
    num_attention_heads: 9,
    num_key_value_heads: 3,
    hidden_size: 576,
    intermediate_size: 1536,
    vocab_size: 49152,
    tie_word_embeddings: true,
    rope_theta: 100000,
  };
  assert.equal(configParameterCount(smollm2), 134_515_008);
  const qwen = {
    model_type: 'qwen2',
    num_hidden_layers: 24,
    num_attention_heads: 14,
    num_key_value_heads: 2,
    hidden_size: 896,
    intermediate_size: 4864,
    vocab_size: 151936,
    tie_word_embeddings: true,
  };
  assert.equal(configParameterCount(qwen), 494_032_768);
});

test('an unknown architecture or a config missing a size gives no count', () => {
  assert.equal(configParameterCount({ model_type: 'mistral', hidden_size: 4096 }), null);
  assert.equal(configParameterCount({ model_type: 'gpt2', n_layer: 12 }), null);
  assert.equal(configParameterCount({}), null);
});
