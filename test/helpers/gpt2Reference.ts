// A plain TypeScript GPT-2 forward pass (float64, no KV cache) over the generator's
// weights: the independent reference the generated ONNX graphs are checked against.

import { GPT2_LAYER_NORM_EPSILON, type Gpt2Dims, type Gpt2Weights, LN_F, WPE, WTE, layerParamName } from '../../src/graph/gpt2Weights.js';

export interface ReferenceInput {
  /** [batch][seq] */
  inputIds: readonly (readonly number[])[];
  /** [batch][seq]: 0 marks padding. */
  attentionMask: readonly (readonly number[])[];
  /** [batch][seq] */
  positionIds: readonly (readonly number[])[];
}

export interface ReferenceOutput {
  /** logits[b][s] has vocabSize entries. */
  logits: Float64Array[][];
  /** keys[layer][b][h][s] has headDim entries (the `present` layout). */
  keys: Float64Array[][][][];
  values: Float64Array[][][][];
}

/** What the graph adds to masked attention scores (the lowest float32, as Hugging Face does). */
const MASKED = -3.4028234663852886e38;

function weight(weights: Gpt2Weights, name: string): Float32Array {
  const values = weights.get(name);
  if (!values) throw new Error(`reference: no weight ${name}`);
  return values;
}

function layerNorm(x: Float64Array, gamma: Float32Array, beta: Float32Array): Float64Array {
  const n = x.length;
  let mean = 0;
  for (const v of x) mean += v;
  mean /= n;
  let variance = 0;
  for (const v of x) variance += (v - mean) ** 2;
  variance /= n;
  const inv = 1 / Math.sqrt(variance + GPT2_LAYER_NORM_EPSILON);
  return x.map((v, i) => (v - mean) * inv * gamma[i] + beta[i]);
}

/** x · W + b with W row-major [x.length, b.length] (Hugging Face's Conv1D). */
function linear(x: Float64Array, w: Float32Array, b: Float32Array): Float64Array {
  const cols = b.length;
  const out = Float64Array.from(b);
  for (let r = 0; r < x.length; r++) {
    const xr = x[r];
    const row = r * cols;
    for (let c = 0; c < cols; c++) out[c] += xr * w[row + c];
  }
  return out;
}

function geluTanh(x: number): number {
  return 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));
}

/** The forward pass over whole sequences: causal attention, padding keys masked out. */
export function gpt2Reference(weights: Gpt2Weights, dims: Gpt2Dims, input: ReferenceInput): ReferenceOutput {
  const { embd, heads, layers, vocabSize } = dims;
  const headDim = embd / heads;
  const wte = weight(weights, WTE);
  const wpe = weight(weights, WPE);
  const p = (layer: number, suffix: string): Float32Array => weight(weights, layerParamName(layer, suffix));

  const keys: Float64Array[][][][] = [];
  const values: Float64Array[][][][] = [];
  const logits = input.inputIds.map((ids, b) => {
    const seq = ids.length;
    const mask = input.attentionMask[b];
    let hidden = ids.map((id, s) => {
      const pos = input.positionIds[b][s];
      return Float64Array.from({ length: embd }, (_, i) => wte[id * embd + i] + wpe[pos * embd + i]);
    });

    for (let layer = 0; layer < layers; layer++) {
      const qkv = hidden.map((h) =>
        linear(layerNorm(h, p(layer, 'ln_1.weight'), p(layer, 'ln_1.bias')), p(layer, 'attn.c_attn.weight'), p(layer, 'attn.c_attn.bias')),
      );
      const headSlice = (s: number, part: number, head: number): Float64Array =>
        qkv[s].subarray(part * embd + head * headDim, part * embd + (head + 1) * headDim);
      keys[layer] ??= [];
      values[layer] ??= [];
      keys[layer][b] = Array.from({ length: heads }, (_, h) => ids.map((_, s) => headSlice(s, 1, h)));
      values[layer][b] = Array.from({ length: heads }, (_, h) => ids.map((_, s) => headSlice(s, 2, h)));

      const attended = ids.map((_, i) => {
        const merged = new Float64Array(embd);
        for (let h = 0; h < heads; h++) {
          const q = headSlice(i, 0, h);
          const scores = ids.map((_, j) => {
            const k = headSlice(j, 1, h);
            let dot = 0;
            for (let d = 0; d < headDim; d++) dot += q[d] * k[d];
            const allowed = j <= i && mask[j] !== 0;
            return dot / Math.sqrt(headDim) + (allowed ? 0 : MASKED);
          });
          const max = Math.max(...scores);
          const exps = scores.map((s) => Math.exp(s - max));
          const total = exps.reduce((a, e) => a + e, 0);
          for (let j = 0; j < seq; j++) {
            const v = headSlice(j, 2, h);
            for (let d = 0; d < headDim; d++) merged[h * headDim + d] += (exps[j] / total) * v[d];
          }
        }
        return merged;
      });

      hidden = hidden.map((h, s) => {
        const afterAttention = linear(attended[s], p(layer, 'attn.c_proj.weight'), p(layer, 'attn.c_proj.bias')).map((v, i) => v + h[i]);
        const normed = layerNorm(afterAttention, p(layer, 'ln_2.weight'), p(layer, 'ln_2.bias'));
        const expanded = linear(normed, p(layer, 'mlp.c_fc.weight'), p(layer, 'mlp.c_fc.bias')).map(geluTanh);
        return linear(expanded, p(layer, 'mlp.c_proj.weight'), p(layer, 'mlp.c_proj.bias')).map((v, i) => v + afterAttention[i]);
      });
    }

    return hidden.map((h) => {
      const normed = layerNorm(h, weight(weights, `${LN_F}.weight`), weight(weights, `${LN_F}.bias`));
      const row = new Float64Array(vocabSize);
      for (let v = 0; v < vocabSize; v++) {
        let dot = 0;
        for (let i = 0; i < embd; i++) dot += normed[i] * wte[v * embd + i];
        row[v] = dot;
      }
      return row;
    });
  });
  return { logits, keys, values };
}
