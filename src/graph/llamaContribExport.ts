// Reads a Llama-family export in onnxruntime's contrib-op form (what onnxruntime-genai's model
// builder writes, and what HuggingFaceTB/SmolLM2-*-Instruct publish): the token embedding Gather,
// SimplifiedLayerNormalization / com.microsoft SkipSimplifiedLayerNormalization carrying the
// residual stream (the skip norm's output 3 is input + skip), q/k/v as one packed projection or
// three, com.microsoft GroupQueryAttention (rotary inside it from cos/sin caches, or a
// RotaryEmbedding before it), SiLU written as x × Sigmoid(x), and a LM head MatMul (its own copy
// of a tied embedding). Projections may be MatMul (fp32 or fp16 weights) or MatMulNBits (read
// dequantized; blocks in Parley's own 4-bit scheme are also kept as they are). The walk follows
// the wiring, not the names; anything that does not fit throws UnrecognisedGraph with the reason.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { GraphIndex, type Linear, SHAPE_OPS, decoderGraph, linearReading } from './exportGraph.js';
import { type Constant, fail } from './graphReading.js';
import { attentionOf, checkRotaryCaches, projectionsReading } from './llamaContribAttention.js';
import { type LlamaDims, EMBED, FINAL_NORM, LM_HEAD, llamaDimsFromConfig, llamaLayerParam } from './llamaWeights.js';
import { isParleyQ4, q4Columns } from './matMulNBits.js';
import { type OnnxModel, type OnnxNode, parseOnnx } from './onnxReader.js';
import type { Q4Matrix } from './quantize.js';

export interface LlamaContribExport {
  dims: LlamaDims;
  /** Hugging Face names (llamaWeights.ts) to values: projections [in, out], embedding [vocab, hidden]. */
  params: Map<string, Float32Array>;
  /**
   * Projections that were MatMulNBits blocks in Parley's own 4-bit scheme (quantizeQ4's layout),
   * by the same names: a q4 conversion can keep them instead of requantizing. For a tied model the
   * LM head's blocks are here too (under lm_head.weight), though params has no such entry.
   */
  q4: Map<string, Q4Matrix>;
  /** Projections read from MatMulNBits (all of them in Parley's scheme when q4 has them all). */
  nbitsProjections: number;
}

/** Whether the graph is of the contrib-op form this reader takes (it has GroupQueryAttention). */
export function isContribExport(model: OnnxModel): boolean {
  return decoderGraph(model).nodes.some((n) => n.opType === 'GroupQueryAttention');
}

/** The residual stream: the value `root`, plus `skip` when a branch's output is still to be added. */
interface Stream {
  root: string;
  skip: string | null;
}

interface Norm {
  output: string;
  weight: Float32Array;
  epsilon: number;
  /** The stream after the norm (null when the norm does not hand the sum on: the final one). */
  next: Stream | null;
}

const hasPair = (node: OnnxNode, a: string, b: string): boolean =>
  (node.inputs[0] === a && node.inputs[1] === b) || (node.inputs[0] === b && node.inputs[1] === a);

/** The RMSNorm that reads the stream (adding its pending branch, fused or by an Add). */
function normOf(g: GraphIndex, s: Stream, hidden: number, what: string): Norm {
  const weightOf = (node: OnnxNode, index: number): Float32Array => {
    const weight = g.constant(node.inputs[index]!);
    if (!weight || weight.data.length !== hidden) fail(`the ${what} norm has no constant weight of ${hidden} values`);
    if (node.inputs[index + 1]) fail(`the ${what} norm has a bias (not an RMSNorm)`);
    return weight.data;
  };
  const epsilonOf = (node: OnnxNode): number => node.attributes.get('epsilon')?.f ?? 1e-5;
  if (s.skip === null) {
    const node = g.users(s.root).find((n) => n.opType === 'SimplifiedLayerNormalization' && n.inputs[0] === s.root);
    if (!node) fail(`no SimplifiedLayerNormalization reads the residual stream for the ${what} norm`);
    if ((node.attributes.get('axis')?.i ?? -1) !== -1) fail(`the ${what} norm is not over the last axis`);
    return { output: node.outputs[0]!, weight: weightOf(node, 1), epsilon: epsilonOf(node), next: s };
  }
  const users = g.users(s.root);
  const fused = users.find((n) => n.opType === 'SkipSimplifiedLayerNormalization' && hasPair(n, s.root, s.skip!));
  if (fused) {
    const sum = fused.outputs[3] || null;
    return {
      output: fused.outputs[0]!,
      weight: weightOf(fused, 2),
      epsilon: epsilonOf(fused),
      next: sum ? { root: sum, skip: null } : null,
    };
  }
  const add = users.find((n) => n.opType === 'Add' && hasPair(n, s.root, s.skip!));
  if (add) return normOf(g, { root: add.outputs[0]!, skip: null }, hidden, what);
  fail(`nothing adds the residual branch before the ${what} norm`);
}

function columns(c: Constant, start: number, count: number): Float32Array {
  const [rows, cols] = c.dims as [number, number];
  const data = c.data;
  const out = new Float32Array(rows * count);
  for (let r = 0; r < rows; r++) out.set(data.subarray(r * cols + start, r * cols + start + count), r * count);
  return out;
}

export function readLlamaContribExport(model: OnnxModel, config: Record<string, unknown>): LlamaContribExport {
  const fromConfig = llamaDimsFromConfig(config);
  if (typeof fromConfig === 'string') fail(fromConfig);
  const dims: LlamaDims = { ...fromConfig };
  const graph = decoderGraph(model);
  const g = new GraphIndex(graph);
  const { hidden, heads, kvHeads, headDim, inner } = dims;
  const params = new Map<string, Float32Array>();
  const q4 = new Map<string, Q4Matrix>();
  let nbitsProjections = 0;

  const attentions = graph.nodes.filter((n) => n.opType === 'GroupQueryAttention').length;
  if (attentions !== dims.layers) fail(`${attentions} GroupQueryAttention nodes for config.json's ${dims.layers} layers`);
  if (!graph.inputs.includes('input_ids') || !graph.inputs.includes('attention_mask')) fail('the graph lacks input_ids or attention_mask');

  const embedding = graph.nodes.find((n) => n.opType === 'Gather' && g.source(n.inputs[1]!) === 'input_ids' && g.constant(n.inputs[0]!));
  if (!embedding) fail('no token embedding (a Gather of input_ids from a constant table)');
  const table = g.constant(embedding.inputs[0]!)!;
  if (table.dims.length !== 2 || table.dims[1] !== hidden || table.dims[0] !== dims.vocabSize) {
    fail(`the embedding is ${table.dims.join('x')}, not vocab_size x hidden_size (${dims.vocabSize}x${hidden})`);
  }
  params.set(EMBED, table.data);

  const keep = (name: string, linear: Linear, start: number, count: number, rows: number): void => {
    if (linear.weight.dims[0] !== rows) fail(`${name} reads ${linear.weight.dims[0]} values, not ${rows}`);
    const whole = start === 0 && count === linear.weight.dims[1];
    params.set(name, whole ? linear.weight.data : columns(linear.weight, start, count));
    if (linear.nbits && isParleyQ4(linear.nbits)) q4.set(name, q4Columns(linear.nbits, start, count));
  };
  const epsilons = new Set<number>();
  let stream: Stream = { root: embedding.outputs[0]!, skip: null };
  let caches: { cos: string; sin: string } | null = null;
  /** Per layer, how many of q, k and v have a bias: all three everywhere, or none anywhere. */
  const biases: number[] = [];

  for (let layer = 0; layer < dims.layers; layer++) {
    const name = (suffix: string): string => llamaLayerParam(layer, suffix);
    const inputNorm = normOf(g, stream, hidden, `layer ${layer} input`);
    params.set(name('input_layernorm.weight'), inputNorm.weight);
    epsilons.add(inputNorm.epsilon);
    const a = attentionOf(g, inputNorm.output, dims, layer);
    if (caches && (caches.cos !== a.cos || caches.sin !== a.sin)) fail(`layer ${layer} rotates by other caches than layer 0`);
    caches ??= { cos: a.cos, sin: a.sin };
    if (!graph.inputs.includes(a.node.inputs[3] ?? '') || !graph.inputs.includes(a.node.inputs[4] ?? ''))
      fail(`layer ${layer}: the past key/value are not graph inputs`);
    if (!graph.outputs.includes(a.node.outputs[1] ?? '') || !graph.outputs.includes(a.node.outputs[2] ?? ''))
      fail(`layer ${layer}: the present key/value are not graph outputs`);
    if (!g.reaches('attention_mask', a.node.inputs[5] ?? '', 50) || !g.reaches('attention_mask', a.node.inputs[6] ?? '', 50)) {
      fail(`layer ${layer}: seqlens_k and total_sequence_length are not computed from attention_mask`);
    }
    const qWidth = heads * headDim;
    const kvWidth = kvHeads * headDim;
    const parts: [string, Linear, number, number][] = a.packed
      ? [
          ['q', a.q, 0, qWidth],
          ['k', a.q, qWidth, kvWidth],
          ['v', a.q, qWidth + kvWidth, kvWidth],
        ]
      : [
          ['q', a.q, 0, qWidth],
          ['k', a.k, 0, kvWidth],
          ['v', a.v, 0, kvWidth],
        ];
    let biased = 0;
    for (const [p, linear, start, count] of parts) {
      const width = a.packed ? qWidth + 2 * kvWidth : count;
      if (linear.weight.dims[1] !== width)
        fail(`layer ${layer}: the ${a.packed ? 'packed q/k/v' : p} projection has ${linear.weight.dims[1]} outputs, not ${width}`);
      keep(name(`self_attn.${p}_proj.weight`), linear, start, count, hidden);
      if (linear.bias) {
        biased++;
        params.set(name(`self_attn.${p}_proj.bias`), linear.bias.slice(start, start + count));
      }
    }
    biases.push(biased);
    for (const l of new Set([a.q, a.k, a.v])) if (l.nbits) nbitsProjections++;
    const o = linearReading(g, a.node.outputs[0]!);
    if (!o || o.weight.dims[1] !== hidden || o.bias)
      fail(`layer ${layer}: no output projection (${qWidth} to ${hidden}, no bias) reads the attention`);
    keep(name('self_attn.o_proj.weight'), o, 0, hidden, qWidth);
    if (o.nbits) nbitsProjections++;
    if (!inputNorm.next) fail(`layer ${layer}: the input norm does not hand on the residual sum`);
    stream = { root: inputNorm.next.root, skip: o.output };

    const postNorm = normOf(g, stream, hidden, `layer ${layer} post-attention`);
    if (!postNorm.next) fail(`layer ${layer}: the post-attention norm does not hand on the residual sum`);
    params.set(name('post_attention_layernorm.weight'), postNorm.weight);
    epsilons.add(postNorm.epsilon);
    const mlp = projectionsReading(g, postNorm.output);
    if (mlp.length !== 2 || mlp.some((l) => l.weight.dims[1] !== inner || l.bias))
      fail(`layer ${layer}: the MLP is not two projections to ${inner} (gate, up)`);
    const gate = mlp.find((l) => g.users(l.output).some((n) => n.opType === 'Sigmoid'));
    const up = mlp.find((l) => l !== gate);
    const sigmoid = gate && g.users(gate.output).find((n) => n.opType === 'Sigmoid');
    const silu = sigmoid && g.users(gate.output).find((n) => n.opType === 'Mul' && hasPair(n, gate.output, sigmoid.outputs[0]!));
    const product = silu && up && g.users(silu.outputs[0]!).find((n) => n.opType === 'Mul' && hasPair(n, silu.outputs[0]!, up.output));
    if (!gate || !up || !product) fail(`layer ${layer}: the MLP is not SiLU(gate) × up`);
    const down = linearReading(g, product.outputs[0]!);
    if (!down || down.weight.dims[1] !== hidden || down.bias)
      fail(`layer ${layer}: no down projection (${inner} to ${hidden}) reads the MLP`);
    keep(name('mlp.gate_proj.weight'), gate, 0, inner, hidden);
    keep(name('mlp.up_proj.weight'), up, 0, inner, hidden);
    keep(name('mlp.down_proj.weight'), down, 0, hidden, inner);
    nbitsProjections += [gate, up, down].filter((l) => l.nbits).length;
    stream = { root: postNorm.next.root, skip: down.output };
  }

  const finalNorm = normOf(g, stream, hidden, 'final');
  params.set(FINAL_NORM, finalNorm.weight);
  epsilons.add(finalNorm.epsilon);
  if (epsilons.size !== 1) fail(`the norms have different epsilons (${[...epsilons].join(', ')})`);
  // The attribute is a float32: keep config.json's value when it is that float's source.
  const epsilon = [...epsilons][0]!;
  if (Math.fround(dims.rmsNormEps) !== epsilon) dims.rmsNormEps = epsilon;
  if (!biases.every((b) => b === biases[0]) || (biases[0] !== 0 && biases[0] !== 3)) fail('only some q/k/v projections have biases');
  dims.qkvBias = biases[0] === 3;
  checkRotaryCaches(g, caches!.cos, caches!.sin, dims);

  const head = projectionsReading(g, finalNorm.output)[0];
  const logits = graph.outputs[0]!;
  if (!head || head.bias || head.weight.dims[1] !== dims.vocabSize)
    fail(`no LM head (${hidden} to ${dims.vocabSize}) reads the final norm`);
  if (head.output !== logits && !g.reaches(head.output, logits, 10, new Set(['Cast', ...SHAPE_OPS])))
    fail(`the LM head's output is not the graph's ${logits}`);
  if (head.nbits) nbitsProjections++;
  keep(LM_HEAD, head, 0, dims.vocabSize, hidden);
  if (dims.tied) {
    // The export keeps its own copy of the head; tied means it must be the embedding, transposed.
    const w = params.get(LM_HEAD)!;
    // (within a quantized head's step, and float16 rounding of either copy)
    const vocab = dims.vocabSize;
    for (let v = 0; v < vocab; v++) {
      for (let h = 0; h < hidden; h++) {
        const e = table.data[v * hidden + h]!;
        if (Math.abs(w[h * vocab + v]! - e) > head.weight.step + 1e-3 * Math.abs(e) + 1e-6) {
          fail('config.json ties the LM head to the embedding but the graph’s head differs from it');
        }
      }
    }
    params.delete(LM_HEAD);
  }
  return { dims, params, q4, nbitsProjections };
}

/** Reads and follows the export in `file` with its folder's config.json values; throws UnrecognisedGraph. */
export async function readLlamaContribFile(file: string, config: Record<string, unknown>): Promise<LlamaContribExport> {
  return readLlamaContribExport(parseOnnx(await readFile(file), path.dirname(file)), config);
}
