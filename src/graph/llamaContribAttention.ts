// The attention of a Llama-family export in onnxruntime's contrib-op form: com.microsoft
// GroupQueryAttention fed by one packed q/k/v projection or three, rotating queries and keys
// itself (do_rotary, cos/sin caches as inputs 7 and 8) or after com.microsoft RotaryEmbedding
// nodes; and the check of its rotary caches against config.json's frequencies.

import { type GraphIndex, type Linear, asLinear } from './exportGraph.js';
import { fail } from './graphReading.js';
import { type LlamaDims, rotaryInverseFrequencies } from './llamaWeights.js';
import type { OnnxNode } from './onnxReader.js';

/** The projections that read `value`. */
export function projectionsReading(g: GraphIndex, value: string): Linear[] {
  const out: Linear[] = [];
  for (const node of g.users(value)) {
    const linear = asLinear(g, node);
    if (linear && linear.input === value && !out.some((l) => l.node === linear.node)) out.push(linear);
  }
  return out;
}

export interface Attention {
  node: OnnxNode;
  /** The projection for each of the query, key and value inputs (one packed projection: all three). */
  q: Linear;
  k: Linear;
  v: Linear;
  packed: boolean;
  /** The cos/sin caches, from the attention node (do_rotary) or from RotaryEmbedding nodes. */
  cos: string;
  sin: string;
  interleaved: number;
}

/** The GroupQueryAttention that a projection's output feeds (through a RotaryEmbedding), and at which input. */
function attentionFed(g: GraphIndex, linear: Linear): { node: OnnxNode; index: number; rotary: OnnxNode | null } | null {
  for (const user of g.users(linear.output)) {
    const rotary = user.opType === 'RotaryEmbedding' ? user : null;
    const value = rotary ? rotary.outputs[0]! : linear.output;
    for (const node of rotary ? g.users(value) : [user]) {
      const index = node.opType === 'GroupQueryAttention' ? node.inputs.indexOf(value) : -1;
      if (index >= 0 && index <= 2) return { node, index, rotary };
    }
  }
  return null;
}

/** The attention whose projections read the input norm's output `x`, checked against the config. */
export function attentionOf(g: GraphIndex, x: string, dims: LlamaDims, layer: number): Attention {
  const linears = projectionsReading(g, x);
  const fed = linears.map((l) => ({ linear: l, at: attentionFed(g, l) })).filter((f) => f.at !== null);
  if (fed.length === 0) fail(`layer ${layer}: no projection of the input norm feeds a GroupQueryAttention`);
  const node = fed[0]!.at!.node;
  if (fed.some((f) => f.at!.node !== node)) fail(`layer ${layer}: the projections feed different attention nodes`);
  const attr = (name: string, fallback: number): number => node.attributes.get(name)?.i ?? fallback;
  if (attr('num_heads', 0) !== dims.heads || attr('kv_num_heads', 0) !== dims.kvHeads) {
    fail(
      `layer ${layer}: GroupQueryAttention has ${attr('num_heads', 0)}/${attr('kv_num_heads', 0)} heads, config.json ${dims.heads}/${dims.kvHeads}`,
    );
  }
  const scale = node.attributes.get('scale')?.f ?? 0;
  if (scale !== 0 && Math.abs(scale * Math.sqrt(dims.headDim) - 1) > 1e-4)
    fail(`layer ${layer}: attention scale ${scale} is not 1/sqrt(head_dim)`);
  if ((node.attributes.get('softcap')?.f ?? 0) !== 0) fail(`layer ${layer}: attention has a softcap`);
  if (attr('local_window_size', -1) !== -1) fail(`layer ${layer}: attention has a sliding window`);
  const byIndex = new Map(fed.map((f) => [f.at!.index, f]));
  const doRotary = attr('do_rotary', 0) === 1;
  let cos = '';
  let sin = '';
  let interleaved = attr('rotary_interleaved', 0);
  let packed = false;
  let q: Linear;
  let k: Linear;
  let v: Linear;
  if (fed.length === 1 && byIndex.has(0) && !node.inputs[1] && !node.inputs[2]) {
    packed = true;
    q = k = v = byIndex.get(0)!.linear;
    if (byIndex.get(0)!.at!.rotary) fail(`layer ${layer}: a RotaryEmbedding on packed q/k/v`);
  } else if (fed.length === 3 && byIndex.has(0) && byIndex.has(1) && byIndex.has(2)) {
    [q, k, v] = [0, 1, 2].map((i) => byIndex.get(i)!.linear) as [Linear, Linear, Linear];
    const rq = byIndex.get(0)!.at!.rotary;
    const rk = byIndex.get(1)!.at!.rotary;
    if (byIndex.get(2)!.at!.rotary) fail(`layer ${layer}: a RotaryEmbedding on the values`);
    if (!doRotary) {
      if (!rq || !rk) fail(`layer ${layer}: no rotary embedding on the queries and keys`);
      if (rq.inputs[2] !== rk.inputs[2] || rq.inputs[3] !== rk.inputs[3])
        fail(`layer ${layer}: queries and keys rotate by different caches`);
      const dim = rq.attributes.get('rotary_embedding_dim')?.i ?? 0;
      if (dim !== 0 && dim !== dims.headDim) fail(`layer ${layer}: partial rotary embedding (${dim} of ${dims.headDim})`);
      [cos, sin] = [rq.inputs[2]!, rq.inputs[3]!];
      interleaved = rq.attributes.get('interleaved')?.i ?? 0;
    } else if (rq || rk) fail(`layer ${layer}: rotary embedding both before and inside the attention`);
  } else {
    fail(`layer ${layer}: GroupQueryAttention's query/key/value are not one packed projection or three`);
  }
  if (doRotary) [cos, sin] = [node.inputs[7] ?? '', node.inputs[8] ?? ''];
  if (!cos || !sin) fail(`layer ${layer}: no rotary cos/sin caches`);
  if (interleaved !== 0) fail(`layer ${layer}: interleaved rotary embedding (Llama pairs the two halves of each head)`);
  return { node, q, k, v, packed, cos, sin, interleaved };
}

/** Checks a cos/sin cache [positions, headDim / 2] against the config's rotary frequencies. */
export function checkRotaryCaches(g: GraphIndex, cosName: string, sinName: string, dims: LlamaDims): void {
  const cos = g.constant(cosName);
  const sin = g.constant(sinName);
  const half = dims.headDim / 2;
  if (!cos || !sin || cos.dims.length !== 2 || cos.dims[1] !== half || sin.data.length !== cos.data.length) {
    fail(`the rotary caches are not constants of shape [positions, ${half}]`);
  }
  const freqs = rotaryInverseFrequencies(dims);
  const rows = cos.dims[0]!;
  for (const p of [1, Math.min(rows - 1, 100), rows - 1]) {
    for (let i = 0; i < half; i++) {
      const angle = p * freqs[i]!;
      // float16 caches: about 1e-3 of error; a wrong theta or scaling is off by far more
      if (Math.abs(cos.data[p * half + i]! - Math.cos(angle)) > 4e-3 || Math.abs(sin.data[p * half + i]! - Math.sin(angle)) > 4e-3) {
        fail(
          `the rotary caches do not match rope_theta ${dims.ropeTheta}${dims.ropeScaling ? ' with llama3 scaling' : ''} (position ${p})`,
        );
      }
    }
  }
}
