// The parameters of a Llama-family decoder (Llama, SmolLM2, Qwen2): their names as in Hugging
// Face's LlamaForCausalLM / Qwen2ForCausalLM, the dimensions config.json gives, the rotary
// frequencies (with Llama-3's `llama3` scaling), and seeded random values for generated models.
//
// Layouts: every projection matrix is stored [in, out], as an Optimum export's MatMul
// initializer holds it (torch's nn.Linear weight transposed); the embedding is [vocab, hidden];
// an untied head is [hidden, vocab]. Rotary embeddings follow Hugging Face's rotate_half (the
// NeoX layout: the first half of each head's dimensions pairs with the second half).

import { SeededRandom } from './seededRandom.js';
import type { ParamSpec } from './gpt2Weights.js';

export type LlamaArch = 'llama' | 'qwen2';

/** Llama-3's rope_scaling of type "llama3". */
export interface Llama3RopeScaling {
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositions: number;
}

export interface LlamaDims {
  arch: LlamaArch;
  layers: number;
  /** Query heads. */
  heads: number;
  /** Key/value heads (grouped-query attention when fewer than `heads`). */
  kvHeads: number;
  headDim: number;
  hidden: number;
  /** The MLP's width (intermediate_size). */
  inner: number;
  vocabSize: number;
  /** max_position_embeddings: the context the model allows (rotary positions need no table). */
  positions: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling?: Llama3RopeScaling;
  /** q/k/v projections with biases (Qwen2). */
  qkvBias: boolean;
  /** The LM head reads the embedding (tie_word_embeddings). */
  tied: boolean;
}

export const EMBED = 'model.embed_tokens.weight';
export const FINAL_NORM = 'model.norm.weight';
export const LM_HEAD = 'lm_head.weight';

/** Hugging Face's name for parameter `suffix` (e.g. "self_attn.q_proj.weight") of block `layer`. */
export function llamaLayerParam(layer: number, suffix: string): string {
  return `model.layers.${layer}.${suffix}`;
}

/** Every parameter with its initialisation (norm weights near 1 with noise, so a swapped or dropped one shows). */
export function llamaParamSpecs(dims: LlamaDims): ParamSpec[] {
  const { hidden: h, heads, kvHeads, headDim, inner, layers } = dims;
  const residualStd = 0.02 / Math.sqrt(2 * layers);
  const matrix = (name: string, rows: number, cols: number, std = 0.02): ParamSpec => ({ name, dims: [rows, cols], mean: 0, std });
  const vector = (name: string, size: number, mean: number, std: number): ParamSpec => ({ name, dims: [size], mean, std });
  const specs: ParamSpec[] = [matrix(EMBED, dims.vocabSize, h)];
  for (let layer = 0; layer < layers; layer++) {
    const name = (suffix: string): string => llamaLayerParam(layer, suffix);
    specs.push(
      vector(name('input_layernorm.weight'), h, 1, 0.05),
      matrix(name('self_attn.q_proj.weight'), h, heads * headDim),
      matrix(name('self_attn.k_proj.weight'), h, kvHeads * headDim),
      matrix(name('self_attn.v_proj.weight'), h, kvHeads * headDim),
    );
    if (dims.qkvBias) {
      specs.push(
        vector(name('self_attn.q_proj.bias'), heads * headDim, 0, 0.02),
        vector(name('self_attn.k_proj.bias'), kvHeads * headDim, 0, 0.02),
        vector(name('self_attn.v_proj.bias'), kvHeads * headDim, 0, 0.02),
      );
    }
    specs.push(
      matrix(name('self_attn.o_proj.weight'), heads * headDim, h, residualStd),
      vector(name('post_attention_layernorm.weight'), h, 1, 0.05),
      matrix(name('mlp.gate_proj.weight'), h, inner),
      matrix(name('mlp.up_proj.weight'), h, inner),
      matrix(name('mlp.down_proj.weight'), inner, h, residualStd),
    );
  }
  specs.push(vector(FINAL_NORM, h, 1, 0.05));
  if (!dims.tied) specs.push(matrix(LM_HEAD, h, dims.vocabSize));
  return specs;
}

/** The values of one parameter: depends only on the seed and the parameter's name. */
export function generateLlamaParam(spec: ParamSpec, seed: number): Float32Array {
  const values = new Float32Array(spec.dims.reduce((a, b) => a * b, 1));
  new SeededRandom(seed, spec.name).fillNormal(values, spec.mean, spec.std);
  return values;
}

/**
 * The rotary inverse frequencies, headDim / 2 of them: theta^(-2i/headDim), adjusted by
 * Llama-3's scaling when given (as transformers' _compute_llama3_parameters does: long
 * wavelengths divided by the factor, short ones kept, a smooth blend between).
 */
export function rotaryInverseFrequencies(dims: Pick<LlamaDims, 'headDim' | 'ropeTheta' | 'ropeScaling'>): Float64Array {
  const half = dims.headDim / 2;
  const freqs = new Float64Array(half);
  for (let i = 0; i < half; i++) freqs[i] = 1 / Math.pow(dims.ropeTheta, (2 * i) / dims.headDim);
  const s = dims.ropeScaling;
  if (!s) return freqs;
  const lowFreqWavelen = s.originalMaxPositions / s.lowFreqFactor;
  const highFreqWavelen = s.originalMaxPositions / s.highFreqFactor;
  for (let i = 0; i < half; i++) {
    const freq = freqs[i]!;
    const wavelen = (2 * Math.PI) / freq;
    if (wavelen < highFreqWavelen) continue;
    if (wavelen > lowFreqWavelen) {
      freqs[i] = freq / s.factor;
      continue;
    }
    const smooth = (s.originalMaxPositions / wavelen - s.lowFreqFactor) / (s.highFreqFactor - s.lowFreqFactor);
    freqs[i] = (1 - smooth) * (freq / s.factor) + smooth * freq;
  }
  return freqs;
}

type ConfigJson = Record<string, unknown>;

const positiveInt = (config: ConfigJson, key: string): number | undefined => {
  const value = config[key];
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0 ? value : undefined;
};
const positiveNumber = (config: ConfigJson, key: string): number | undefined => {
  const value = config[key];
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
};

/**
 * The dimensions of a Llama/Qwen2 config.json, or a one-line reason it is not one Parley's
 * builder takes (another model_type, a rope scaling other than llama3, a missing number).
 */
export function llamaDimsFromConfig(config: ConfigJson): LlamaDims | string {
  const type = config['model_type'];
  if (type !== 'llama' && type !== 'qwen2') return `model_type ${JSON.stringify(type)} is not llama or qwen2`;
  const layers = positiveInt(config, 'num_hidden_layers');
  const heads = positiveInt(config, 'num_attention_heads');
  const hidden = positiveInt(config, 'hidden_size');
  const inner = positiveInt(config, 'intermediate_size');
  const vocabSize = positiveInt(config, 'vocab_size');
  if (!layers || !heads || !hidden || !inner || !vocabSize) {
    return 'config.json lacks one of num_hidden_layers, num_attention_heads, hidden_size, intermediate_size, vocab_size';
  }
  const kvHeads = positiveInt(config, 'num_key_value_heads') ?? heads;
  const headDim = positiveInt(config, 'head_dim') ?? hidden / heads;
  if (!Number.isInteger(headDim) || headDim % 2 !== 0) return `head_dim ${headDim} is not an even whole number`;
  if (heads % kvHeads !== 0) return `num_attention_heads (${heads}) is not a multiple of num_key_value_heads (${kvHeads})`;
  let ropeScaling: Llama3RopeScaling | undefined;
  const scaling = config['rope_scaling'];
  if (scaling !== null && scaling !== undefined) {
    if (typeof scaling !== 'object') return 'rope_scaling is not an object';
    const s = scaling as ConfigJson;
    const kind = s['rope_type'] ?? s['type'];
    if (kind === 'default') {
      ropeScaling = undefined;
    } else if (kind !== 'llama3') {
      return `rope_scaling of type ${JSON.stringify(kind)} is not supported (only llama3)`;
    } else {
      const factor = positiveNumber(s, 'factor');
      const lowFreqFactor = positiveNumber(s, 'low_freq_factor');
      const highFreqFactor = positiveNumber(s, 'high_freq_factor');
      const originalMaxPositions = positiveInt(s, 'original_max_position_embeddings');
      if (!factor || !lowFreqFactor || !highFreqFactor || !originalMaxPositions) return 'rope_scaling (llama3) lacks a number';
      ropeScaling = { factor, lowFreqFactor, highFreqFactor, originalMaxPositions };
    }
  }
  return {
    arch: type,
    layers,
    heads,
    kvHeads,
    headDim,
    hidden,
    inner,
    vocabSize,
    positions: positiveInt(config, 'max_position_embeddings') ?? 2048,
    rmsNormEps: positiveNumber(config, 'rms_norm_eps') ?? 1e-6,
    ropeTheta: positiveNumber(config, 'rope_theta') ?? 10000,
    ...(ropeScaling ? { ropeScaling } : {}),
    qkvBias: type === 'qwen2' ? config['attention_bias'] !== false : config['attention_bias'] === true,
    // LlamaConfig and Qwen2Config default to an untied head.
    tied: config['tie_word_embeddings'] === true,
  };
}
