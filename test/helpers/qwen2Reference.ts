// A plain TypeScript Qwen2 forward pass (float64, no KV cache): the independent reference the
// hub-style export in test/fixtures/hf-qwen2-tiny is checked against. It follows
// transformers' modeling_qwen2 (v4.45): RMSNorm, q/k/v projections with biases, rotary
// positions (rotate_half), grouped-query attention (each KV head serves heads/kvHeads query
// heads), SwiGLU MLP, and an LM head tied to the embedding.
import { floatInitializer, type Initializer } from './onnxInitializers.js';

export interface Qwen2Config {
  layers: number;
  heads: number;
  kvHeads: number;
  hidden: number;
  intermediate: number;
  vocabSize: number;
  ropeTheta: number;
  rmsNormEps: number;
}

export interface Qwen2Weights {
  embedding: Float32Array;
  finalNorm: Float32Array;
  layers: {
    inputNorm: Float32Array;
    postNorm: Float32Array;
    /** MatMul weights as the export stores them: [in, out], row-major. */
    q: Float32Array;
    k: Float32Array;
    v: Float32Array;
    o: Float32Array;
    gate: Float32Array;
    up: Float32Array;
    down: Float32Array;
    qBias: Float32Array;
    kBias: Float32Array;
    vBias: Float32Array;
  }[];
}

export function qwen2ConfigOf(config: Record<string, unknown>): Qwen2Config {
  const n = (key: string): number => config[key] as number;
  return {
    layers: n('num_hidden_layers'),
    heads: n('num_attention_heads'),
    kvHeads: n('num_key_value_heads'),
    hidden: n('hidden_size'),
    intermediate: n('intermediate_size'),
    vocabSize: n('vocab_size'),
    ropeTheta: n('rope_theta'),
    rmsNormEps: n('rms_norm_eps'),
  };
}

/**
 * The weights of a torch export: named initializers for the embedding, norms and biases;
 * the projections were folded into anonymous MatMul initializers, seven per layer in the
 * order the forward pass traces them (q, k, v, o, gate, up, down).
 */
export function qwen2WeightsFromOnnx(bytes: Uint8Array, initializers: readonly Initializer[], config: Qwen2Config): Qwen2Weights {
  const named = (name: string): Float32Array => floatInitializer(bytes, initializers, name);
  const matmuls = initializers.filter((i) => i.name.startsWith('onnx::MatMul_')).map((i) => floatInitializer(bytes, initializers, i.name));
  if (matmuls.length !== 7 * config.layers) throw new Error(`expected ${7 * config.layers} MatMul weights, found ${matmuls.length}`);
  return {
    embedding: named('model.embed_tokens.weight'),
    finalNorm: named('model.norm.weight'),
    layers: Array.from({ length: config.layers }, (_, l) => {
      const [q, k, v, o, gate, up, down] = matmuls.slice(7 * l, 7 * l + 7) as [
        Float32Array,
        Float32Array,
        Float32Array,
        Float32Array,
        Float32Array,
        Float32Array,
        Float32Array,
      ];
      const p = `model.layers.${l}.`;
      return {
        inputNorm: named(`${p}input_layernorm.weight`),
        postNorm: named(`${p}post_attention_layernorm.weight`),
        q,
        k,
        v,
        o,
        gate,
        up,
        down,
        qBias: named(`${p}self_attn.q_proj.bias`),
        kBias: named(`${p}self_attn.k_proj.bias`),
        vBias: named(`${p}self_attn.v_proj.bias`),
      };
    }),
  };
}

function rmsNorm(x: Float64Array, weight: Float32Array, eps: number): Float64Array {
  let sum = 0;
  for (const v of x) sum += v * v;
  const inv = 1 / Math.sqrt(sum / x.length + eps);
  return x.map((v, i) => v * inv * weight[i]!);
}

/** x · W (+ b), W row-major [x.length, out]. */
function matmul(x: Float64Array, w: Float32Array, out: number, bias?: Float32Array): Float64Array {
  const y = new Float64Array(out);
  if (bias) for (let c = 0; c < out; c++) y[c] = bias[c]!;
  for (let r = 0; r < x.length; r++) {
    const xr = x[r]!;
    for (let c = 0; c < out; c++) y[c]! += xr * w[r * out + c]!;
  }
  return y;
}

/** Rotary embedding of one head's vector at `position` (transformers' rotate_half form). */
function rotate(x: Float64Array, position: number, theta: number): Float64Array {
  const d = x.length;
  const half = d / 2;
  const out = new Float64Array(d);
  for (let i = 0; i < half; i++) {
    const angle = position / theta ** ((2 * i) / d);
    const cos = Math.cos(angle);
    const sin = Math.sin(angle);
    out[i] = x[i]! * cos - x[i + half]! * sin;
    out[i + half] = x[i + half]! * cos + x[i]! * sin;
  }
  return out;
}

const silu = (x: number): number => x / (1 + Math.exp(-x));

/** The logits of every position of `ids` (positions 0..n-1), vocabSize each. */
export function qwen2Reference(weights: Qwen2Weights, config: Qwen2Config, ids: readonly number[]): Float64Array[] {
  const { hidden: width, heads, kvHeads, intermediate, ropeTheta, rmsNormEps: eps } = config;
  const headDim = width / heads;
  const group = heads / kvHeads;
  let hidden = ids.map((id) => Float64Array.from(weights.embedding.subarray(id * width, (id + 1) * width)));
  for (const layer of weights.layers) {
    const normed = hidden.map((h) => rmsNorm(h, layer.inputNorm, eps));
    const head = (vector: Float64Array, h: number): Float64Array => vector.subarray(h * headDim, (h + 1) * headDim);
    const qs = normed.map((x, s) => {
      const q = matmul(x, layer.q, heads * headDim, layer.qBias);
      return Array.from({ length: heads }, (_, h) => rotate(head(q, h), s, ropeTheta));
    });
    const ks = normed.map((x, s) => {
      const k = matmul(x, layer.k, kvHeads * headDim, layer.kBias);
      return Array.from({ length: kvHeads }, (_, h) => rotate(head(k, h), s, ropeTheta));
    });
    const vs = normed.map((x) => matmul(x, layer.v, kvHeads * headDim, layer.vBias));
    hidden = hidden.map((residual, i) => {
      const merged = new Float64Array(width);
      for (let h = 0; h < heads; h++) {
        const kv = Math.floor(h / group);
        const scores = Array.from({ length: i + 1 }, (_, j) => {
          let dot = 0;
          for (let d = 0; d < headDim; d++) dot += qs[i]![h]![d]! * ks[j]![kv]![d]!;
          return dot / Math.sqrt(headDim);
        });
        const max = Math.max(...scores);
        const exps = scores.map((s) => Math.exp(s - max));
        const total = exps.reduce((a, b) => a + b, 0);
        for (let j = 0; j <= i; j++) {
          const v = head(vs[j]!, kv);
          for (let d = 0; d < headDim; d++) merged[h * headDim + d]! += (exps[j]! / total) * v[d]!;
        }
      }
      const attended = matmul(merged, layer.o, width).map((v, c) => v + residual[c]!);
      const x = rmsNorm(attended, layer.postNorm, eps);
      const gate = matmul(x, layer.gate, intermediate);
      const up = matmul(x, layer.up, intermediate);
      const act = gate.map((g, c) => silu(g) * up[c]!);
      return matmul(act, layer.down, width).map((v, c) => v + attended[c]!);
    });
  }
  return hidden.map((h) => {
    const x = rmsNorm(h, weights.finalNorm, eps);
    const row = new Float64Array(config.vocabSize);
    for (let t = 0; t < config.vocabSize; t++) {
      let dot = 0;
      for (let c = 0; c < width; c++) dot += x[c]! * weights.embedding[t * width + c]!;
      row[t] = dot;
    }
    return row;
  });
}
