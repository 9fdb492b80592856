// Writes a Llama-family model folder (llama: SmolLM2/Llama-3.2-like; qwen2: Qwen2.5-like) with
// seeded random weights on Parley's graph: config.json as such a model has it, GPT-2's BPE fitted
// to the vocabulary with the architecture's special tokens and a published chat template, and
// onnx/model.onnx (+ model_quantized.onnx with q8, model_q4.onnx with q4).

import { mkdir, writeFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import path from 'node:path';
import { LLAMA32_CHAT_TEMPLATE, QWEN25_CHAT_TEMPLATE } from './chatTemplates.js';
import type { AttentionKind } from './llamaAttention.js';
import { buildLlamaModel } from './llamaGraph.js';
import { EMBED, type LlamaArch, type LlamaDims, generateLlamaParam, llamaParamSpecs } from './llamaWeights.js';
import { MODEL_GENERATOR_VERSION, type GeneratorStamp, type PeakedScales } from './makeModelFolder.js';
import type { ParamSource, Precision } from './projection.js';
import { chatTokenizerFiles } from './tokenizerFiles.js';
import { writeModelFiles } from './externalData.js';

export type LlamaShapeName = 'smollm2-135m' | 'qwen2.5-0.5b';

/** The dimensions of published models, random weights aside. */
export const LLAMA_SHAPES: Record<LlamaShapeName, LlamaDims> = {
  'smollm2-135m': {
    arch: 'llama',
    layers: 30,
    heads: 9,
    kvHeads: 3,
    headDim: 64,
    hidden: 576,
    inner: 1536,
    vocabSize: 49152,
    positions: 8192,
    rmsNormEps: 1e-5,
    ropeTheta: 100000,
    qkvBias: false,
    tied: true,
  },
  'qwen2.5-0.5b': {
    arch: 'qwen2',
    layers: 24,
    heads: 14,
    kvHeads: 2,
    headDim: 64,
    hidden: 896,
    inner: 4864,
    vocabSize: 151936,
    positions: 32768,
    rmsNormEps: 1e-6,
    ropeTheta: 1000000,
    qkvBias: true,
    tied: true,
  },
};

export interface LlamaFolderOptions {
  out: string;
  dims: LlamaDims;
  seed: number;
  q8: boolean;
  q4: boolean;
  /** Embedding × `embedding`, MLP down projections × `mlpOutput` (see makeModelFolder.ts). */
  peaked?: PeakedScales;
  /** The attention variant (benchmarks compare them); the builder's default otherwise. */
  attention?: AttentionKind;
}

const SPECIALS: Record<LlamaArch, readonly string[]> = {
  llama: ['<|endoftext|>', '<|begin_of_text|>', '<|start_header_id|>', '<|end_header_id|>', '<|eot_id|>'],
  qwen2: ['<|endoftext|>', '<|im_start|>', '<|im_end|>'],
};

/** Protobuf's limit on one message, minus room for the graph itself. */
const MAX_ONNX_BYTES = 2 ** 31 - 2 ** 24;

/** Throws a one-line message for dimensions that cannot make a model. */
export function validateLlamaOptions(options: Omit<LlamaFolderOptions, 'out'>): void {
  const d = options.dims;
  for (const key of ['layers', 'heads', 'kvHeads', 'headDim', 'hidden', 'inner', 'vocabSize', 'positions'] as const) {
    if (!Number.isSafeInteger(d[key]) || d[key] < 1) throw new Error(`${key} must be a positive integer, got ${d[key]}`);
  }
  if (d.heads % d.kvHeads !== 0) throw new Error(`heads (${d.heads}) must be a multiple of kv heads (${d.kvHeads})`);
  if (d.headDim % 2 !== 0) throw new Error(`head dim (${d.headDim}) must be even for rotary embeddings`);
  if (!(d.ropeTheta > 1) || !Number.isFinite(d.ropeTheta)) throw new Error(`rope theta must be a number above 1, got ${d.ropeTheta}`);
  if (d.vocabSize < 256 + SPECIALS[d.arch].length)
    throw new Error(`vocab must be at least ${256 + SPECIALS[d.arch].length}, got ${d.vocabSize}`);
  if (!Number.isSafeInteger(options.seed) || options.seed < 0) throw new Error(`seed must be a non-negative integer, got ${options.seed}`);
  const parameters = llamaParamSpecs(d).reduce((sum, spec) => sum + spec.dims.reduce((a, b) => a * b, 1), 0);
  const bytes = parameters * 4 + d.positions * d.headDim * 4;
  if (bytes > MAX_ONNX_BYTES) {
    throw new Error(`${parameters} parameters need ${(bytes / 2 ** 30).toFixed(1)} GB in fp32; one .onnx file holds at most 2 GB`);
  }
}

/** The generated parameters by name, each made when asked for (same options, same values). */
export function generatedLlamaParams(options: Pick<LlamaFolderOptions, 'dims' | 'seed' | 'peaked'>): ParamSource {
  const specs = new Map(llamaParamSpecs(options.dims).map((spec) => [spec.name, spec]));
  return (name) => {
    const spec = specs.get(name);
    if (!spec) throw new Error(`no ${options.dims.arch} parameter named ${name}`);
    const values = generateLlamaParam(spec, options.seed);
    const p = options.peaked;
    const scale = !p ? 1 : name === EMBED ? p.embedding : name.endsWith('mlp.down_proj.weight') ? p.mlpOutput : 1;
    if (scale !== 1) for (let i = 0; i < values.length; i++) values[i]! *= scale;
    return values;
  };
}

function configJson(options: LlamaFolderOptions, ids: Map<string, number>): Record<string, unknown> {
  const d = options.dims;
  const stamp: GeneratorStamp = {
    version: MODEL_GENERATOR_VERSION,
    seed: options.seed,
    newKeyValues: true,
    ...(options.peaked ? { peaked: options.peaked } : {}),
  };
  const llama = d.arch === 'llama';
  return {
    architectures: [llama ? 'LlamaForCausalLM' : 'Qwen2ForCausalLM'],
    model_type: d.arch,
    attention_bias: d.qkvBias,
    attention_dropout: 0,
    bos_token_id: ids.get(llama ? '<|begin_of_text|>' : '<|endoftext|>'),
    eos_token_id: ids.get(llama ? '<|eot_id|>' : '<|im_end|>'),
    head_dim: d.headDim,
    hidden_act: 'silu',
    hidden_size: d.hidden,
    initializer_range: 0.02,
    intermediate_size: d.inner,
    max_position_embeddings: d.positions,
    num_attention_heads: d.heads,
    num_hidden_layers: d.layers,
    num_key_value_heads: d.kvHeads,
    rms_norm_eps: d.rmsNormEps,
    rope_scaling: d.ropeScaling
      ? {
          rope_type: 'llama3',
          factor: d.ropeScaling.factor,
          low_freq_factor: d.ropeScaling.lowFreqFactor,
          high_freq_factor: d.ropeScaling.highFreqFactor,
          original_max_position_embeddings: d.ropeScaling.originalMaxPositions,
        }
      : null,
    rope_theta: d.ropeTheta,
    tie_word_embeddings: d.tied,
    torch_dtype: 'float32',
    use_cache: true,
    vocab_size: d.vocabSize,
    parley_random_weights: true,
    parley_generator: stamp,
  };
}

/** Writes one dtype's graph of the folder's model to `file`. */
export async function writeLlamaOnnx(file: string, options: Omit<LlamaFolderOptions, 'out'>, precision: Precision): Promise<void> {
  const model = buildLlamaModel(
    options.dims,
    generatedLlamaParams(options),
    precision,
    options.attention ? { attention: options.attention } : {},
  );
  await writeModelFiles(file, model);
}

/** Writes the folder `out` (created if needed). Same options, same bytes. */
export async function makeLlamaModelFolder(options: LlamaFolderOptions): Promise<void> {
  validateLlamaOptions(options);
  if (endianness() !== 'LE') throw new Error('generating models needs a little-endian machine');
  const d = options.dims;
  const llama = d.arch === 'llama';
  const { tokenizerJson, tokenizerConfigJson, specialIds } = await chatTokenizerFiles({
    vocabSize: d.vocabSize,
    modelMaxLength: d.positions,
    specials: SPECIALS[d.arch],
    config: llama
      ? { bos_token: '<|begin_of_text|>', eos_token: '<|eot_id|>', chat_template: LLAMA32_CHAT_TEMPLATE }
      : { bos_token: null, eos_token: '<|im_end|>', pad_token: '<|endoftext|>', chat_template: QWEN25_CHAT_TEMPLATE },
  });
  const config = configJson(options, specialIds);
  const generation = { bos_token_id: config['bos_token_id'], eos_token_id: [config['eos_token_id'], specialIds.get('<|endoftext|>')] };
  await mkdir(path.join(options.out, 'onnx'), { recursive: true });
  const json = (value: unknown): string => `${JSON.stringify(value, null, 2)}\n`;
  await writeFile(path.join(options.out, 'config.json'), json(config));
  await writeFile(path.join(options.out, 'generation_config.json'), json(generation));
  await writeFile(path.join(options.out, 'tokenizer.json'), tokenizerJson);
  await writeFile(path.join(options.out, 'tokenizer_config.json'), tokenizerConfigJson);
  await writeLlamaOnnx(path.join(options.out, 'onnx', 'model.onnx'), options, 'fp32');
  if (options.q8) await writeLlamaOnnx(path.join(options.out, 'onnx', 'model_quantized.onnx'), options, 'q8');
  if (options.q4) await writeLlamaOnnx(path.join(options.out, 'onnx', 'model_q4.onnx'), options, 'q4');
}
