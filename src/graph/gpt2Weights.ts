// The parameters of a GPT-2 (names and layouts as in Hugging Face's GPT2LMHeadModel,
// whose Conv1D weights are [in, out]) and their seeded random values.

import { SeededRandom } from './seededRandom.js';

export const GPT2_VOCAB_SIZE = 50257;
export const GPT2_LAYER_NORM_EPSILON = 1e-5;

export interface Gpt2Dims {
  layers: number;
  heads: number;
  embd: number;
  positions: number;
  vocabSize: number;
  /** The MLP's width; 4 × embd when not given (GPT-2's n_inner null). */
  inner?: number;
  /** LayerNorm epsilon; GPT2_LAYER_NORM_EPSILON when not given. */
  layerNormEpsilon?: number;
}

export function innerSize(dims: Gpt2Dims): number {
  return dims.inner ?? 4 * dims.embd;
}

export interface ParamSpec {
  name: string;
  dims: readonly number[];
  mean: number;
  std: number;
}

export type Gpt2Weights = ReadonlyMap<string, Float32Array>;

/** Hugging Face's name for parameter `suffix` (e.g. "attn.c_attn.weight") of block `layer`. */
export function layerParamName(layer: number, suffix: string): string {
  return `transformer.h.${layer}.${suffix}`;
}

export const WTE = 'transformer.wte.weight';
export const WPE = 'transformer.wpe.weight';
/** Prefix of the final LayerNorm's weight and bias. */
export const LN_F = 'transformer.ln_f';

/**
 * Every parameter with its initialisation. Matrices follow GPT-2's init (N(0, 0.02), the
 * residual projections scaled by 1/sqrt(2·layers)). Biases and LayerNorm parameters get
 * small noise instead of GPT-2's zeros and ones so a test against a reference forward pass
 * notices any of them being dropped or swapped.
 */
export function gpt2ParamSpecs(dims: Gpt2Dims): ParamSpec[] {
  const { embd: e, layers } = dims;
  const inner = innerSize(dims);
  const residualStd = 0.02 / Math.sqrt(2 * layers);
  const matrix = (name: string, rows: number, cols: number, std = 0.02): ParamSpec => ({
    name,
    dims: [rows, cols],
    mean: 0,
    std,
  });
  const vector = (name: string, size: number, mean: number, std: number): ParamSpec => ({
    name,
    dims: [size],
    mean,
    std,
  });
  const specs: ParamSpec[] = [matrix(WTE, dims.vocabSize, e), matrix(WPE, dims.positions, e, 0.01)];
  for (let layer = 0; layer < layers; layer++) {
    const name = (suffix: string): string => layerParamName(layer, suffix);
    specs.push(
      vector(name('ln_1.weight'), e, 1, 0.05),
      vector(name('ln_1.bias'), e, 0, 0.02),
      matrix(name('attn.c_attn.weight'), e, 3 * e),
      vector(name('attn.c_attn.bias'), 3 * e, 0, 0.02),
      matrix(name('attn.c_proj.weight'), e, e, residualStd),
      vector(name('attn.c_proj.bias'), e, 0, 0.02),
      vector(name('ln_2.weight'), e, 1, 0.05),
      vector(name('ln_2.bias'), e, 0, 0.02),
      matrix(name('mlp.c_fc.weight'), e, inner),
      vector(name('mlp.c_fc.bias'), inner, 0, 0.02),
      matrix(name('mlp.c_proj.weight'), inner, e, residualStd),
      vector(name('mlp.c_proj.bias'), e, 0, 0.02),
    );
  }
  specs.push(vector(`${LN_F}.weight`, e, 1, 0.05), vector(`${LN_F}.bias`, e, 0, 0.02));
  return specs;
}

/** The values of one parameter: depends only on the seed and the parameter's name. */
export function generateParam(spec: ParamSpec, seed: number): Float32Array {
  const values = new Float32Array(spec.dims.reduce((a, b) => a * b, 1));
  new SeededRandom(seed, spec.name).fillNormal(values, spec.mean, spec.std);
  return values;
}

/** All parameters in memory: for small models and tests (GPT-2 small would take ~500 MB). */
export function generateGpt2Weights(dims: Gpt2Dims, seed: number): Map<string, Float32Array> {
  return new Map(gpt2ParamSpecs(dims).map((spec) => [spec.name, generateParam(spec, seed)]));
}
