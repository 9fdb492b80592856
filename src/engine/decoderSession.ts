import * as ort from 'onnxruntime-node';
import type { KvCache } from './kvCache.js';

/**
 * Drives one decoder-only ONNX graph (GPT-2 style, with KV cache) step by step, straight on the
 * onnxruntime session that transformers.js created. Owning the loop lets us stop between
 * forward passes, stream per token, and keep the cache between requests later. Every optional
 * input is fed only when the graph declares it, so real exports from the hub work as well as
 * the graphs Parley generates.
 */
export interface DecoderGraph {
  pastInputs: { key: string; value: string }[];
  presentOutputs: { key: string; value: string }[];
  pastType: 'float32' | 'float16';
  heads: number;
  headDim: number;
  hasPositionIds: boolean;
  hasLogitsToKeep: boolean;
  hasUseCacheBranch: boolean;
}

export interface ModelShape {
  layers: number;
  heads: number;
  embd: number;
}

export function inspectDecoderGraph(session: ort.InferenceSession, shape: ModelShape): DecoderGraph {
  const inputs = new Set(session.inputNames);
  const outputs = new Set(session.outputNames);
  if (!inputs.has('input_ids') || !outputs.has('logits')) {
    throw new Error('the ONNX graph is not a text-generation decoder (needs input_ids and logits)');
  }
  const pastInputs: DecoderGraph['pastInputs'] = [];
  const presentOutputs: DecoderGraph['presentOutputs'] = [];
  for (let i = 0; ; i++) {
    const key = `past_key_values.${i}.key`;
    const value = `past_key_values.${i}.value`;
    if (!inputs.has(key) || !inputs.has(value)) break;
    const pKey = `present.${i}.key`;
    const pValue = `present.${i}.value`;
    if (!outputs.has(pKey) || !outputs.has(pValue)) {
      throw new Error(`the ONNX graph declares ${key} but has no ${pKey} output`);
    }
    pastInputs.push({ key, value });
    presentOutputs.push({ key: pKey, value: pValue });
  }
  if (pastInputs.length === 0) throw new Error('the ONNX graph has no KV-cache inputs (past_key_values.*)');

  let pastType: DecoderGraph['pastType'] = 'float32';
  let heads = shape.heads;
  let headDim = Math.floor(shape.embd / shape.heads);
  const meta = session.inputMetadata.find((m) => m.name === pastInputs[0]!.key);
  if (meta && meta.isTensor) {
    if (meta.type === 'float16') pastType = 'float16';
    const [, h, , d] = meta.shape;
    if (typeof h === 'number' && h > 0) heads = h;
    if (typeof d === 'number' && d > 0) headDim = d;
  }
  return {
    pastInputs,
    presentOutputs,
    pastType,
    heads,
    headDim,
    hasPositionIds: inputs.has('position_ids'),
    hasLogitsToKeep: inputs.has('num_logits_to_keep'),
    hasUseCacheBranch: inputs.has('use_cache_branch'),
  };
}

export class DecoderSession {
  constructor(
    private readonly session: ort.InferenceSession,
    readonly graph: DecoderGraph,
  ) {}

  emptyCache(): KvCache {
    const g = this.graph;
    const dims = [1, g.heads, 0, g.headDim];
    const tensors: Record<string, ort.Tensor> = {};
    for (const { key, value } of g.pastInputs) {
      tensors[key] = new ort.Tensor(g.pastType, g.pastType === 'float16' ? new Uint16Array(0) : new Float32Array(0), dims);
      tensors[value] = new ort.Tensor(g.pastType, g.pastType === 'float16' ? new Uint16Array(0) : new Float32Array(0), dims);
    }
    return { length: 0, tensors };
  }

  /**
   * Runs `ids` after `cache` and returns the logits of the last position (a fresh copy the
   * caller may modify) and the grown cache.
   */
  async forward(ids: readonly number[], cache: KvCache): Promise<{ logits: Float32Array; cache: KvCache }> {
    const g = this.graph;
    const n = ids.length;
    const total = cache.length + n;
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor('int64', BigInt64Array.from(ids, (x) => BigInt(x)), [1, n]),
      attention_mask: new ort.Tensor('int64', new BigInt64Array(total).fill(1n), [1, total]),
      ...cache.tensors,
    };
    if (g.hasPositionIds) {
      const pos = new BigInt64Array(n);
      for (let i = 0; i < n; i++) pos[i] = BigInt(cache.length + i);
      feeds['position_ids'] = new ort.Tensor('int64', pos, [1, n]);
    }
    if (g.hasLogitsToKeep) feeds['num_logits_to_keep'] = new ort.Tensor('int64', BigInt64Array.of(1n), []);
    if (g.hasUseCacheBranch) feeds['use_cache_branch'] = new ort.Tensor('bool', Uint8Array.of(cache.length > 0 ? 1 : 0), [1]);

    const out = await this.session.run(feeds);
    const logits = out['logits'];
    if (!logits) throw new Error('the model returned no logits');
    const vocab = logits.dims[logits.dims.length - 1]!;
    const rows = logits.dims[logits.dims.length - 2]!;
    const next: Record<string, ort.Tensor> = {};
    g.pastInputs.forEach((past, i) => {
      const present = g.presentOutputs[i]!;
      next[past.key] = out[present.key]!;
      next[past.value] = out[present.value]!;
    });
    return { logits: lastRow(logits, rows, vocab), cache: { length: total, tensors: next } };
  }
}

function lastRow(logits: ort.Tensor, rows: number, vocab: number): Float32Array {
  const start = (rows - 1) * vocab;
  const data = logits.data;
  if (data instanceof Float32Array) return data.slice(start, start + vocab);
  if (data instanceof Uint16Array) {
    const row = new Float32Array(vocab);
    for (let i = 0; i < vocab; i++) row[i] = halfToFloat(data[start + i]!);
    return row;
  }
  throw new Error(`unsupported logits type ${logits.type}`);
}

function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * 2 ** -14 * (frac / 1024);
  if (exp === 31) return frac ? NaN : sign * Infinity;
  return sign * 2 ** (exp - 15) * (1 + frac / 1024);
}
