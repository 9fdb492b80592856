// A converted export's 4-bit blocks handed to the q4 builder as they are, when they are Parley's
// own scheme (matMulNBits.ts isParleyQ4): the fused projections the Llama builder asks for (q/k/v,
// gate/up) are the parts' columns side by side, which for MatMulNBits' [N, blocks, 16] layout is
// the parts' bytes and scales one after another.

import { GATE_UP_WEIGHT, QKV_WEIGHT } from './llamaGraph.js';
import { llamaLayerParam } from './llamaWeights.js';
import type { Q4Source } from './projection.js';
import type { Q4Matrix } from './quantize.js';

/** Output columns of several block matrices over the same K, in order; null unless all have the same blocks. */
export function concatQ4Columns(parts: readonly Q4Matrix[]): Q4Matrix | null {
  const blocks = parts[0]?.blocks;
  if (blocks === undefined || parts.some((p) => p.blocks !== blocks)) return null;
  const packed = new Uint8Array(parts.reduce((n, p) => n + p.packed.length, 0));
  const scales = new Float32Array(parts.reduce((n, p) => n + p.scales.length, 0));
  let bytes = 0;
  let count = 0;
  for (const part of parts) {
    packed.set(part.packed, bytes);
    scales.set(part.scales, count);
    bytes += part.packed.length;
    count += part.scales.length;
  }
  return { packed, scales, blocks };
}

const FUSED: Record<string, readonly string[]> = {
  [QKV_WEIGHT]: ['self_attn.q_proj.weight', 'self_attn.k_proj.weight', 'self_attn.v_proj.weight'],
  [GATE_UP_WEIGHT]: ['mlp.gate_proj.weight', 'mlp.up_proj.weight'],
};

/** The kept blocks by the Llama builder's names: a fused matrix only when every part was kept. */
export function llamaKeptQ4(kept: ReadonlyMap<string, Q4Matrix>): Q4Source {
  return (name) => {
    const direct = kept.get(name);
    if (direct) return direct;
    const match = /^model\.layers\.(\d+)\.(.+)$/.exec(name);
    const parts = match ? FUSED[match[2]!] : undefined;
    if (!match || !parts) return null;
    const found = parts.map((suffix) => kept.get(llamaLayerParam(Number(match[1]), suffix)));
    return found.every((p) => p !== undefined) ? concatQ4Columns(found as Q4Matrix[]) : null;
  };
}
