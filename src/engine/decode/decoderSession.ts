import '../float16Feeds.js';
import * as ort from 'onnxruntime-node';
import { fitCapacity, type KvCache, newRowStore, pastTensor, type RowKvCache, type RowStore, writeRows } from './kvCache.js';
import { halfToFloat } from '../../graph/halfFloat.js';
import { floatData } from './float16.js';

/** The past_key_values shape config.json gives (load/modelConfig.ts reads it). */
export interface KvShape {
  layers: number;
  /** Key/value heads: fewer than the query heads under grouped-query attention. */
  kvHeads: number;
  headDim: number;
}

/**
 * Drives one decoder-only ONNX graph (GPT-2 style, with KV cache) step by step, straight on the
 * onnxruntime session that transformers.js created. Owning the loop lets us stop between
 * forward passes, stream per token, and keep the cache between requests. Every optional
 * input is fed only when the graph declares it, so real exports from the hub work as well as
 * the graphs Parley generates.
 *
 * Two ways to carry the KV cache, chosen from the graph's declared inputs and outputs:
 * - rows (graphs with new_key_values.* outputs, as Parley generates): only the new rows are
 *   fetched each step and written into Parley's own buffers, which are fed back without a
 *   copy. At context 896 on GPT-2 small this decoded about 2x faster than fetching present.*
 *   (`npm run bench:decode -- --present`), which onnxruntime-node copies into fresh JS
 *   memory, ~66 MB per step in fp32.
 * - present (every other GPT-2 export): present.* is fetched and fed back as the next past.
 */
export interface DecoderGraph {
  pastInputs: { key: string; value: string }[];
  presentOutputs: { key: string; value: string }[];
  pastType: 'float32' | 'float16';
  heads: number;
  headDim: number;
  hasPositionIds: boolean;
  hasAttentionMask: boolean;
  hasLogitsToKeep: boolean;
  hasUseCacheBranch: boolean;
  /** new_key_values.{i}.key/value, [batch, sequence, heads × headDim], when the graph has them all. */
  rowOutputs: { key: string; value: string }[] | null;
}

/**
 * The graph's declared past shape decides; `shape` (from config.json) fills in dimensions the
 * graph leaves symbolic.
 */
/** A graph Parley cannot drive; the message says what is missing, to follow "<model>: ". */
export class UnsupportedGraphError extends Error {}

export function inspectDecoderGraph(session: ort.InferenceSession, shape: KvShape): DecoderGraph {
  const inputs = new Set(session.inputNames);
  const outputs = new Set(session.outputNames);
  if (!inputs.has('input_ids') || !outputs.has('logits')) {
    throw new UnsupportedGraphError('its ONNX graph is not a text-generation decoder (it needs an input_ids input and a logits output)');
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
      throw new UnsupportedGraphError(`its ONNX graph declares ${key} but has no ${pKey} output`);
    }
    pastInputs.push({ key, value });
    presentOutputs.push({ key: pKey, value: pValue });
  }
  if (pastInputs.length === 0) {
    throw new UnsupportedGraphError(
      'its ONNX graph has no KV cache (no past_key_values.N.key/value inputs); export it with past (Optimum: text-generation-with-past)',
    );
  }
  const fed = new Set([
    'input_ids',
    'attention_mask',
    'position_ids',
    'num_logits_to_keep',
    'use_cache_branch',
    ...pastInputs.flatMap((p) => [p.key, p.value]),
  ]);
  const unknown = session.inputNames.filter((name) => !fed.has(name));
  if (unknown.length > 0) {
    throw new UnsupportedGraphError(
      `its ONNX graph needs inputs Parley does not feed (${unknown.join(', ')}); Parley drives decoder-only text generators`,
    );
  }

  let pastType: DecoderGraph['pastType'] = 'float32';
  let heads = shape.kvHeads;
  let headDim = shape.headDim;
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
    hasAttentionMask: inputs.has('attention_mask'),
    hasLogitsToKeep: inputs.has('num_logits_to_keep'),
    hasUseCacheBranch: inputs.has('use_cache_branch'),
    rowOutputs: findRowOutputs(session, pastInputs.length, { pastType, heads, headDim }),
  };
}

/**
 * The rows path needs every layer's new_key_values outputs, declared with the past's type and
 * [batch, sequence, heads × headDim] (the projection's layout, heads side by side), plus
 * position_ids and attention_mask inputs: the fed past has padding positions, so positions
 * must come from us and padding must be maskable.
 */
function findRowOutputs(
  session: ort.InferenceSession,
  layers: number,
  past: { pastType: DecoderGraph['pastType']; heads: number; headDim: number },
): DecoderGraph['rowOutputs'] {
  const inputs = new Set(session.inputNames);
  if (!inputs.has('position_ids') || !inputs.has('attention_mask')) return null;
  const rows: { key: string; value: string }[] = [];
  const fits = (name: string): boolean => {
    const meta = session.outputMetadata.find((m) => m.name === name);
    if (!meta || !meta.isTensor || meta.type !== past.pastType) return false;
    return meta.shape.length === 3 && meta.shape[2] === past.heads * past.headDim;
  };
  for (let i = 0; i < layers; i++) {
    const key = `new_key_values.${i}.key`;
    const value = `new_key_values.${i}.value`;
    if (!fits(key) || !fits(value)) return null;
    rows.push({ key, value });
  }
  return rows;
}

/**
 * Whether `prefill`'s graph can run the prompt for `main`'s: the same past inputs, cache type
 * and width, and both on the rows path, so that the cache one writes the other reads. (A q8 and
 * a q4 graph Parley built for the same model are.)
 */
export function canPrefillFor(main: DecoderGraph, prefill: DecoderGraph): boolean {
  const names = (g: DecoderGraph): string => JSON.stringify([g.pastInputs, g.rowOutputs]);
  return (
    main.rowOutputs !== null &&
    prefill.rowOutputs !== null &&
    names(main) === names(prefill) &&
    main.pastType === prefill.pastType &&
    main.heads === prefill.heads &&
    main.headDim === prefill.headDim &&
    main.hasPositionIds === prefill.hasPositionIds &&
    main.hasLogitsToKeep === prefill.hasLogitsToKeep &&
    main.hasUseCacheBranch === prefill.hasUseCacheBranch
  );
}

/**
 * Positions per forward pass while prefilling. At 896 tokens, 64 against 128 lowered peak RSS
 * by 11–19 MB (SmolLM2 and GPT-2 shapes, every dtype) with TTFT the same or a little lower;
 * 32 was 10–20 % slower.
 */
export const PREFILL_CHUNK = 64;

export class DecoderSession {
  private readonly store: RowStore | null;
  /** Past input names, key then value per layer, and the row outputs in the same order. */
  private readonly pastNames: readonly string[];
  private readonly rowNames: readonly string[];
  /**
   * Runs passes of more than one token, when set (see canPrefillFor): a q4 model's prompt goes
   * through its q8 graph, whose integer matrix products are several times faster on a long
   * prompt than 4-bit blocks, at the cost of holding both graphs' weights.
   */
  readonly prefillSession: ort.InferenceSession | null;

  constructor(
    /** The onnxruntime session; the batched decoder (batchDecoder.ts) runs the same one. */
    readonly session: ort.InferenceSession,
    readonly graph: DecoderGraph,
    maxPositions: number,
    options: { rows?: boolean; prefillSession?: ort.InferenceSession } = {},
  ) {
    const g = graph;
    this.prefillSession = options.prefillSession ?? null;
    this.pastNames = g.pastInputs.flatMap((p) => [p.key, p.value]);
    this.rowNames = g.rowOutputs?.flatMap((r) => [r.key, r.value]) ?? [];
    this.store = g.rowOutputs && options.rows !== false ? newRowStore(this.pastNames, g.pastType, g.heads, g.headDim, maxPositions) : null;
  }

  /** Which way this session carries the KV cache (see the module comment). */
  get cacheKind(): KvCache['kind'] {
    return this.store ? 'rows' : 'present';
  }

  /** A cache of length 0. On the rows path this starts a new chain in the shared buffers. */
  emptyCache(): KvCache {
    if (this.store) return { kind: 'rows', length: 0, store: this.store };
    const tensors: Record<string, ort.Tensor> = {};
    for (const { key, value } of this.graph.pastInputs) {
      tensors[key] = this.emptyPast();
      tensors[value] = this.emptyPast();
    }
    return { kind: 'present', length: 0, tensors };
  }

  private emptyPast(): ort.Tensor {
    const g = this.graph;
    return new ort.Tensor(g.pastType, g.pastType === 'float16' ? new Uint16Array(0) : new Float32Array(0), [1, g.heads, 0, g.headDim]);
  }

  /**
   * Runs `ids` after `cache` and returns the logits of the last position (a fresh copy the
   * caller may modify) and the grown cache. On the rows path `cache` stays valid as a prefix
   * of the result; a failed step leaves it untouched.
   */
  async forward(ids: readonly number[], cache: KvCache): Promise<{ logits: Float32Array; cache: KvCache }> {
    const result = await this.prefill(ids, cache, () => false);
    if (!result.logits) throw new Error('the prefill stopped without being asked to');
    return { logits: result.logits, cache: result.cache };
  }

  /**
   * forward() for a prompt that may be long: it goes in chunks, because the attention scores
   * of one pass grow with its length times the context and onnxruntime's arena keeps its
   * largest size for good. `stop` is asked between chunks; when it says yes, the result has
   * no logits and the cache holds the part of `ids` that went through (a consistent prefix).
   */
  async prefill(ids: readonly number[], cache: KvCache, stop: () => boolean): Promise<{ logits: Float32Array | null; cache: KvCache }> {
    if (ids.length === 0) throw new Error('nothing to run: no token ids');
    let step: { logits: Float32Array | null; cache: KvCache } = { logits: null, cache };
    for (let from = 0; from < ids.length; from += PREFILL_CHUNK) {
      if (from > 0 && stop()) return { logits: null, cache: step.cache };
      step = await this.forwardOnce(ids.slice(from, from + PREFILL_CHUNK), step.cache);
    }
    return step;
  }

  private async forwardOnce(ids: readonly number[], cache: KvCache): Promise<{ logits: Float32Array; cache: KvCache }> {
    const g = this.graph;
    const n = ids.length;
    const total = cache.length + n;
    const feeds: Record<string, ort.Tensor> = {
      input_ids: new ort.Tensor(
        'int64',
        BigInt64Array.from(ids, (x) => BigInt(x)),
        [1, n],
      ),
    };
    if (g.hasPositionIds) {
      const pos = new BigInt64Array(n);
      for (let i = 0; i < n; i++) pos[i] = BigInt(cache.length + i);
      feeds['position_ids'] = new ort.Tensor('int64', pos, [1, n]);
    }
    if (g.hasLogitsToKeep) feeds['num_logits_to_keep'] = new ort.Tensor('int64', BigInt64Array.of(1n), []);
    if (g.hasUseCacheBranch) feeds['use_cache_branch'] = new ort.Tensor('bool', Uint8Array.of(cache.length > 0 ? 1 : 0), [1]);

    if (cache.kind === 'rows') return this.forwardRows(ids, cache, feeds);

    if (g.hasAttentionMask) feeds['attention_mask'] = new ort.Tensor('int64', new BigInt64Array(total).fill(1n), [1, total]);
    Object.assign(feeds, cache.tensors);
    const out = await this.session.run(feeds);
    const next: Record<string, ort.Tensor> = {};
    g.pastInputs.forEach((past, i) => {
      const present = g.presentOutputs[i]!;
      next[past.key] = out[present.key]!;
      next[past.value] = out[present.value]!;
    });
    return { logits: lastRow(out['logits']), cache: { kind: 'present', length: total, tensors: next } };
  }

  private async forwardRows(
    ids: readonly number[],
    cache: RowKvCache,
    feeds: Record<string, ort.Tensor>,
  ): Promise<{ logits: Float32Array; cache: KvCache }> {
    const { store, length } = cache;
    const n = ids.length;
    fitCapacity(store, length + n, length);
    // The fed past is the whole layout, or nothing for a fresh chain; the mask hides the padding.
    const padded = length === 0 ? 0 : store.capacity;
    const mask = new BigInt64Array(padded + n);
    mask.fill(1n, 0, length);
    mask.fill(1n, padded);
    feeds['attention_mask'] = new ort.Tensor('int64', mask, [1, padded + n]);
    for (const name of this.pastNames) feeds[name] = padded === 0 ? this.emptyPast() : pastTensor(store, name);
    const session = n > 1 && this.prefillSession ? this.prefillSession : this.session;
    const out = await session.run(feeds, ['logits', ...this.rowNames]);
    this.pastNames.forEach((name, i) => {
      const rows = floatData(out[this.rowNames[i]!]!.data);
      if (!rows) throw new Error(`unsupported KV cache type ${store.type}`);
      writeRows(store, name, rows, length, n);
    });
    return { logits: lastRow(out['logits']), cache: { kind: 'rows', length: length + n, store } };
  }
}

function lastRow(logits: ort.Tensor | undefined): Float32Array {
  if (!logits) throw new Error('the model returned no logits');
  const vocab = logits.dims[logits.dims.length - 1]!;
  const rows = logits.dims[logits.dims.length - 2]!;
  const start = (rows - 1) * vocab;
  const data = floatData(logits.data);
  // A single row is already a fresh buffer of ours: onnxruntime-node copies every output.
  // Not copying it again spares a vocabulary-sized garbage array per token.
  if (data instanceof Float32Array) return rows === 1 && data.length === vocab ? data : data.slice(start, start + vocab);
  if (data instanceof Uint16Array) {
    const row = new Float32Array(vocab);
    for (let i = 0; i < vocab; i++) row[i] = halfToFloat(data[start + i]!);
    return row;
  }
  throw new Error(`unsupported logits type ${logits.type}`);
}
