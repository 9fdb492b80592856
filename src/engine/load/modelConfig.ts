// What Parley reads from a model's config.json and generation_config.json, as plain
// functions of the parsed JSON: the KV-cache shape, the context length, the ids that end a
// reply, and whether the architecture is one Parley can drive at all.

import type { KvShape } from '../decode/decoderSession.js';
import type { GenerationDefaults } from '../protocol.js';

export type ConfigJson = Record<string, unknown>;

const num = (config: ConfigJson, ...keys: string[]): number | undefined => {
  for (const key of keys) {
    const value = config[key];
    if (typeof value === 'number' && Number.isFinite(value) && value > 0) return value;
  }
  return undefined;
};

/**
 * The past_key_values shape, [batch, kvHeads, past, headDim] per layer: num_key_value_heads
 * (else the query heads: plain multi-head attention), head_dim (else hidden / heads), with
 * GPT-2's n_layer / n_head / n_embd as the other spelling. Null when the config says too little.
 */
export function kvShape(config: ConfigJson): KvShape | null {
  const layers = num(config, 'num_hidden_layers', 'n_layer', 'num_layers');
  const heads = num(config, 'num_attention_heads', 'n_head', 'num_heads');
  const hidden = num(config, 'hidden_size', 'n_embd', 'd_model');
  if (layers === undefined || heads === undefined) return null;
  const kvHeads = num(config, 'num_key_value_heads', 'n_head_kv', 'num_kv_heads') ?? heads;
  const headDim = num(config, 'head_dim') ?? (hidden === undefined ? undefined : Math.floor(hidden / heads));
  if (headDim === undefined || headDim === 0) return null;
  return { layers, kvHeads, headDim };
}

/** The most positions the model can see (prompt and reply together). */
export function contextLengthOf(config: ConfigJson): number {
  return num(config, 'n_positions', 'max_position_embeddings', 'n_ctx', 'max_sequence_length') ?? 1024;
}

/** The most positions a config may claim: far beyond any model Parley runs, short of sizes that overflow buffers. */
export const MAX_POSITIONS = 1 << 24;
const MAX_COUNT = 1 << 16;
const MAX_WIDTH = 1 << 20;

/** Every number kvShape, contextLengthOf and the vocabulary read, with the most each may be. */
const CHECKED_NUMBERS: Record<string, number> = {
  n_positions: MAX_POSITIONS,
  max_position_embeddings: MAX_POSITIONS,
  n_ctx: MAX_POSITIONS,
  max_sequence_length: MAX_POSITIONS,
  num_hidden_layers: MAX_COUNT,
  n_layer: MAX_COUNT,
  num_layers: MAX_COUNT,
  num_attention_heads: MAX_COUNT,
  n_head: MAX_COUNT,
  num_heads: MAX_COUNT,
  num_key_value_heads: MAX_COUNT,
  n_head_kv: MAX_COUNT,
  num_kv_heads: MAX_COUNT,
  hidden_size: MAX_WIDTH,
  n_embd: MAX_WIDTH,
  d_model: MAX_WIDTH,
  head_dim: MAX_WIDTH,
  vocab_size: MAX_POSITIONS,
};

/**
 * What is wrong with config.json's numbers, or null: each one Parley reads, when present,
 * must be a whole number in its range. A value Parley skipped would otherwise be replaced by
 * another key or the 1024 default, a context the graph may not have.
 */
export function configNumbersProblem(config: ConfigJson): string | null {
  for (const [key, max] of Object.entries(CHECKED_NUMBERS)) {
    const value = config[key];
    if (value === undefined || value === null) continue;
    if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 1 || value > max) {
      return `config.json's ${key} is ${JSON.stringify(value)?.slice(0, 40) ?? String(value)}: it must be a whole number from 1 to ${max}`;
    }
  }
  return null;
}

/**
 * Why the context `contextLength` does not fit a graph whose position table has `rows` rows
 * (null when it fits, or when the graph has no table: rotary positions are computed).
 */
export function positionTableProblem(contextLength: number, rows: number | null): string | null {
  if (rows === null || contextLength <= rows) return null;
  return `config.json gives a context of ${contextLength} positions, but the graph's position table has ${rows}`;
}

const ids = (value: unknown): number[] =>
  Array.isArray(value)
    ? value.filter((x): x is number => Number.isInteger(x) && x >= 0)
    : Number.isInteger(value) && (value as number) >= 0
      ? [value as number]
      : [];

/**
 * Every id that ends a reply: config.json's eos_token_id, generation_config.json's (a list
 * for Llama-3 and Qwen2.5-Instruct: end of turn and end of text), and the tokenizer's
 * eos_token. In that order, without repeats.
 */
export function endTokenIds(config: ConfigJson, generationConfig: ConfigJson | null, tokenizerEos: number | null): number[] {
  return [...new Set([...ids(config['eos_token_id']), ...ids(generationConfig?.['eos_token_id']), ...ids(tokenizerEos)])];
}

/** Why Parley cannot drive this model, in a few words, or null when it can (decoder-only). */
export function unsupportedReason(config: ConfigJson): string | null {
  const type = typeof config['model_type'] === 'string' ? ` (${config['model_type'] as string})` : '';
  if (config['is_encoder_decoder'] === true) {
    return `it is an encoder-decoder model${type}; Parley drives decoder-only text generators (past_key_values in, present out)`;
  }
  return null;
}

const GENERATION_KEYS: readonly (readonly [keyof GenerationDefaults, string, (v: number) => boolean])[] = [
  ['temperature', 'temperature', (v) => v >= 0 && v <= 2],
  ['topK', 'top_k', (v) => Number.isSafeInteger(v) && v >= 0],
  ['topP', 'top_p', (v) => v >= 0 && v <= 1],
  ['repetitionPenalty', 'repetition_penalty', (v) => v > 0 && v <= 10],
  ['maxNewTokens', 'max_new_tokens', (v) => Number.isSafeInteger(v) && v >= 1],
];

/**
 * generation_config.json's sampling values, each kept only when it is a number Parley's own
 * setting would accept (a file is not trusted to be sane). `do_sample: false` said outright
 * means greedy decoding, which is temperature 0 here; a file that does not say leaves it to
 * the user's settings (transformers' implicit greedy default would make every such model greedy).
 */
export function generationDefaults(generationConfig: ConfigJson | null): GenerationDefaults {
  if (generationConfig === null) return {};
  const out: GenerationDefaults = {};
  for (const [key, jsonKey, ok] of GENERATION_KEYS) {
    const value = generationConfig[jsonKey];
    if (typeof value === 'number' && Number.isFinite(value) && ok(value)) out[key] = value;
  }
  if (generationConfig['do_sample'] === false) out.temperature = 0;
  return out;
}
