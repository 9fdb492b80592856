// Writes a GPT-2 model folder with seeded random weights that transformers.js loads like
// one downloaded from the hub: config, tokenizer, onnx/model.onnx and, with q8,
// onnx/model_quantized.onnx, with q4, onnx/model_q4.onnx.

import { mkdir, writeFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import path from 'node:path';
import { type GraphOptions, type KvCacheType, type Precision, buildGpt2Model } from './gpt2Graph.js';
import { GPT2_LAYER_NORM_EPSILON, GPT2_VOCAB_SIZE, type Gpt2Dims, WTE, generateParam, gpt2ParamSpecs } from './gpt2Weights.js';
import { END_OF_TEXT_ID, gpt2TokenizerFiles } from './tokenizerFiles.js';
import { writeModelFiles } from './externalData.js';

export interface ModelFolderOptions {
  out: string;
  layers: number;
  heads: number;
  embd: number;
  positions: number;
  seed: number;
  q8: boolean;
  /** Also write onnx/model_q4.onnx (4-bit attention and MLP, int8 LM head). */
  q4?: boolean;
  /** Token embedding (and tied LM head) × `embedding`, MLP output projections × `mlpOutput`:
   * sharp next-token distributions, so a greedy choice does not flip on rounding, and blocks
   * that outweigh the residual stream, so the greedy text varies instead of repeating the
   * prompt's last token (comparing engines token for token). */
  peaked?: PeakedScales;
  /** The KV cache's type at the graph boundary (the maths is fp32 either way); float32 by default. */
  kvCache?: KvCacheType;
  /** Adds the new_key_values.* outputs Parley's decoder prefers; true by default. */
  newKeyValues?: boolean;
}

export interface PeakedScales {
  embedding: number;
  mlpOutput: number;
}

/** Bumped whenever the files written change, so cached fixtures get regenerated. */
export const MODEL_GENERATOR_VERSION = 6;

/** What config.json records about how the folder was generated. */
export interface GeneratorStamp {
  version: number;
  seed: number;
  peaked?: PeakedScales;
  /** Whether the graphs have the new_key_values.* outputs. */
  newKeyValues: boolean;
}

/** Protobuf's limit on one message, minus room for the graph itself. */
const MAX_ONNX_BYTES = 2 ** 31 - 2 ** 24;

/** Throws a one-line message for options that cannot make a model. */
export function validateModelOptions(options: Omit<ModelFolderOptions, 'out'>): void {
  const positive = ['layers', 'heads', 'embd', 'positions'] as const;
  for (const key of positive) {
    const value = options[key];
    if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${key} must be a positive integer, got ${value}`);
  }
  if (options.embd % options.heads !== 0) {
    throw new Error(`embd (${options.embd}) must be a multiple of heads (${options.heads})`);
  }
  if (!Number.isSafeInteger(options.seed) || options.seed < 0) {
    throw new Error(`seed must be a non-negative integer, got ${options.seed}`);
  }
  const parameters = gpt2ParamSpecs(dimsOf(options)).reduce((sum, spec) => sum + spec.dims.reduce((a, b) => a * b, 1), 0);
  if (parameters * 4 > MAX_ONNX_BYTES) {
    const gigabytes = ((parameters * 4) / 2 ** 30).toFixed(1);
    throw new Error(`${parameters} parameters need ${gigabytes} GB in fp32; one .onnx file holds at most 2 GB`);
  }
}

function dimsOf(options: Omit<ModelFolderOptions, 'out' | 'seed' | 'q8' | 'q4'>): Gpt2Dims {
  const { layers, heads, embd, positions } = options;
  return { layers, heads, embd, positions, vocabSize: GPT2_VOCAB_SIZE };
}

function configJson(options: ModelFolderOptions): string {
  const stamp: GeneratorStamp = {
    version: MODEL_GENERATOR_VERSION,
    seed: options.seed,
    newKeyValues: options.newKeyValues ?? true,
    ...(options.peaked ? { peaked: options.peaked } : {}),
  };
  const config = {
    activation_function: 'gelu_new',
    architectures: ['GPT2LMHeadModel'],
    attn_pdrop: 0.1,
    bos_token_id: END_OF_TEXT_ID,
    embd_pdrop: 0.1,
    eos_token_id: END_OF_TEXT_ID,
    initializer_range: 0.02,
    layer_norm_epsilon: GPT2_LAYER_NORM_EPSILON,
    model_type: 'gpt2',
    n_ctx: options.positions,
    n_embd: options.embd,
    n_head: options.heads,
    n_inner: null,
    n_layer: options.layers,
    n_positions: options.positions,
    resid_pdrop: 0.1,
    use_cache: true,
    vocab_size: GPT2_VOCAB_SIZE,
    parley_random_weights: true,
    parley_generator: stamp,
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

function generationConfigJson(): string {
  return `${JSON.stringify({ bos_token_id: END_OF_TEXT_ID, eos_token_id: END_OF_TEXT_ID }, null, 2)}\n`;
}

/** The generated parameters by name, each made when asked for (same options, same values). */
export function generatedParams(options: Omit<ModelFolderOptions, 'out' | 'q8'>): {
  dims: Gpt2Dims;
  param: (name: string) => Float32Array;
} {
  const dims = dimsOf(options);
  const specs = new Map(gpt2ParamSpecs(dims).map((spec) => [spec.name, spec]));
  const param = (name: string): Float32Array => {
    const spec = specs.get(name);
    if (!spec) throw new Error(`no GPT-2 parameter named ${name}`);
    const values = generateParam(spec, options.seed);
    const scale = !options.peaked
      ? 1
      : name === WTE
        ? options.peaked.embedding
        : name.endsWith('mlp.c_proj.weight')
          ? options.peaked.mlpOutput
          : 1;
    if (scale !== 1) for (let i = 0; i < values.length; i++) values[i]! *= scale;
    return values;
  };
  return { dims, param };
}

async function writeOnnx(file: string, options: ModelFolderOptions, precision: Precision, graph: GraphOptions): Promise<void> {
  const { dims, param } = generatedParams(options);
  await writeModelFiles(file, buildGpt2Model(dims, param, precision, graph));
}

/**
 * Writes the folder `out` (created if needed). Same options, same bytes. Tensor bytes are
 * generated while the file is written, so memory stays near the largest single tensor.
 */
export async function makeModelFolder(options: ModelFolderOptions): Promise<void> {
  validateModelOptions(options);
  // ONNX raw_data is little-endian; the weights are written straight from Float32Arrays.
  if (endianness() !== 'LE') throw new Error('generating models needs a little-endian machine');
  await mkdir(path.join(options.out, 'onnx'), { recursive: true });
  const { tokenizerJson, tokenizerConfigJson } = await gpt2TokenizerFiles(options.positions);
  await writeFile(path.join(options.out, 'config.json'), configJson(options));
  await writeFile(path.join(options.out, 'generation_config.json'), generationConfigJson());
  await writeFile(path.join(options.out, 'tokenizer.json'), tokenizerJson);
  await writeFile(path.join(options.out, 'tokenizer_config.json'), tokenizerConfigJson);
  const graph: GraphOptions = { kvCache: options.kvCache ?? 'float32', newKeyValues: options.newKeyValues ?? true };
  await writeOnnx(path.join(options.out, 'onnx', 'model.onnx'), options, 'fp32', graph);
  if (options.q8) await writeOnnx(path.join(options.out, 'onnx', 'model_quantized.onnx'), options, 'q8', graph);
  if (options.q4) await writeOnnx(path.join(options.out, 'onnx', 'model_q4.onnx'), options, 'q4', graph);
}
