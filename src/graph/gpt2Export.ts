// Reads a GPT-2 export's weights by following its graph: from the token embedding along the
// residual stream, block by block, find the LayerNorm that reads the stream, the projection
// that reads the LayerNorm, the projection whose output is added back to the stream, and so
// on to the final LayerNorm and the LM head. Initializer names are never relied on (exports
// differ in naming and constant folding); only the wiring and the op types are. Anything
// that does not fit GPT-2's shape throws UnrecognisedGraph with the reason. The same walk
// reads Optimum's merged decoder (its with-past branch) and onnxruntime's 8-bit files
// (MatMulInteger weights and DequantizeLinear tables, dequantized).

import { GraphIndex, type Linear, SHAPE_OPS, decoderGraph, linearReading } from './exportGraph.js';
import { type Constant, fail } from './graphReading.js';
import { type Gpt2Dims, LN_F, WPE, WTE, layerParamName } from './gpt2Weights.js';
import type { OnnxModel, OnnxNode } from './onnxReader.js';
import { transposeMatrix } from './transpose.js';

export interface Gpt2Export {
  dims: Gpt2Dims;
  layerNormEpsilon: number;
  /** Hugging Face names (see gpt2Weights.ts) to values, Conv1D layout [in, out]. */
  params: Map<string, Float32Array>;
}

interface LayerNorm {
  input: string;
  output: string;
  weight: Float32Array;
  bias: Float32Array;
  epsilon: number;
}

const ELEMENTWISE = new Set(['Mul', 'Add', 'Pow', 'Tanh', 'Div', 'Sub', ...SHAPE_OPS]);

/** The LayerNorm that reads `input`, as one LayerNormalization node or torch's decomposition. */
function layerNormOf(g: GraphIndex, input: string): LayerNorm | null {
  for (const node of g.users(input)) {
    if (node.opType === 'LayerNormalization') {
      const weight = g.constant(node.inputs[1]!);
      const bias = node.inputs[2] ? g.constant(node.inputs[2]) : null;
      const axis = node.attributes.get('axis')?.i ?? -1;
      if (!weight || !bias || axis !== -1 || node.outputs.filter((x) => x !== '').length !== 1) continue;
      const epsilon = node.attributes.get('epsilon')?.f ?? 1e-5;
      return { input, output: node.outputs[0]!, weight: weight.data, bias: bias.data, epsilon };
    }
    if (node.opType !== 'ReduceMean') continue;
    // x - mean(x), divided by sqrt(mean((x - mean)^2) + eps), times weight, plus bias.
    const sub = g.users(node.outputs[0]!).find((n) => n.opType === 'Sub' && g.source(n.inputs[0]!) === input);
    if (!sub) continue;
    const centred = sub.outputs[0]!;
    const subUsers = g.users(centred);
    const pow = subUsers.find((n) => n.opType === 'Pow');
    const div = subUsers.find((n) => n.opType === 'Div' && n.inputs[0] === centred);
    if (!pow || !div) continue;
    const exponent = g.constant(pow.inputs[1]!);
    if (!exponent || exponent.data[0] !== 2) continue;
    const variance = g.users(pow.outputs[0]!).find((n) => n.opType === 'ReduceMean');
    const addEps = variance && g.users(variance.outputs[0]!).find((n) => n.opType === 'Add');
    const eps = addEps && addEps.inputs.map((x) => g.constant(x)).find((c) => c !== null);
    const sqrt = addEps && g.users(addEps.outputs[0]!).find((n) => n.opType === 'Sqrt');
    if (!eps || !sqrt || g.source(div.inputs[1]!) !== sqrt.outputs[0]) continue;
    const mul = g.users(div.outputs[0]!).find((n) => n.opType === 'Mul');
    const weight = mul && mul.inputs.map((x) => g.constant(x)).find((c) => c !== null);
    const add = mul && g.users(mul.outputs[0]!).find((n) => n.opType === 'Add');
    const bias = add && add.inputs.map((x) => g.constant(x)).find((c) => c !== null);
    if (!weight || !bias || !add) continue;
    return { input, output: add.outputs[0]!, weight: weight.data, bias: bias.data, epsilon: eps.data[0]! };
  }
  return null;
}

/** The Add of the residual stream `stream` and a projection's output; returns both. */
function residualAdd(g: GraphIndex, stream: string, rows: number): { linear: Linear; sum: string } | null {
  for (const add of g.users(stream)) {
    if (add.opType !== 'Add') continue;
    const other = add.inputs.map((x) => g.source(x)).find((x) => x !== stream);
    if (other === undefined) continue;
    // `other` is a projection's output (bias included): find the projection.
    const linear = g.linearProducing(other);
    if (linear && linear.weight.dims[0] === rows) return { linear, sum: add.outputs[0]! };
  }
  return null;
}

/**
 * An embedding lookup: a Gather (axis 0) of a constant table, or, as onnxruntime's quantizer
 * writes it, a Gather of an 8-bit table whose rows a DequantizeLinear turns back into floats.
 */
function lookup(g: GraphIndex, node: OnnxNode): { table: Constant; output: string } | null {
  if (node.opType !== 'Gather' || (node.attributes.get('axis')?.i ?? 0) !== 0) return null;
  const table = g.constant(node.inputs[0]!);
  if (table) return table.dims.length === 2 ? { table, output: node.outputs[0]! } : null;
  const users = g.users(node.outputs[0]!);
  const dq = users.length === 1 && users[0]!.opType === 'DequantizeLinear' ? users[0]! : null;
  if (!dq || g.source(dq.inputs[0]!) !== node.outputs[0]) return null;
  const rows = g.dequantized(node.inputs[0]!, dq.inputs[1]!, dq.inputs[2]);
  return rows && rows.dims.length === 2 ? { table: rows, output: dq.outputs[0]! } : null;
}

function embeddings(g: GraphIndex): { wte: Constant; wpe: Constant; sum: string } {
  let wte: Constant | null = null;
  let wpe: Constant | null = null;
  let tokenOut = '';
  let positionOut = '';
  for (const node of g.model.nodes) {
    const found = lookup(g, node);
    if (!found) continue;
    if (g.source(node.inputs[1]!) === 'input_ids') {
      wte = found.table;
      tokenOut = found.output;
    } else {
      // Positions come from position_ids or, in exports without that input, from the past length.
      wpe = found.table;
      positionOut = found.output;
    }
  }
  if (!wte) fail('no token embedding (a Gather of a constant table by input_ids)');
  if (!wpe) fail('no learned position embedding (a second Gather of a constant table)');
  const add = g.users(tokenOut).find((n) => n.opType === 'Add' && n.inputs.some((x) => g.source(x) === positionOut));
  if (!add) fail('token and position embeddings are not added together');
  return { wte, wpe, sum: add.outputs[0]! };
}

/**
 * The token table when the LM head reads the token embedding: through a Transpose of the very
 * table the embedding Gather reads (as de-duplicated exports do), or a copy with equal values.
 * In an 8-bit file the two may be quantized apart (or one left in float): equal then means
 * within both quantization steps, and the more precise of the two is the table.
 */
function tiedTable(g: GraphIndex, head: Linear, wte: Constant): Constant | null {
  const weightInput = head.node.inputs[1]!;
  const producer = g.producer.get(weightInput);
  const table = producer?.opType === 'Transpose' ? producer.inputs[0]! : head.node.opType === 'Gemm' ? weightInput : null;
  if (table !== null && g.constant(table) === wte) return wte;
  const [rows, cols] = head.weight.dims as [number, number]; // [embd, vocab]
  const values = head.weight.data;
  // Half a step each side, with room for the rounding of the dequantized floats.
  const tolerance = ((head.weight.step + wte.step) / 2) * (1 + 1e-3);
  for (let e = 0; e < rows; e++) {
    for (let v = 0; v < cols; v++) if (!(Math.abs(values[e * cols + v]! - wte.data[v * rows + e]!) <= tolerance)) return null;
  }
  if (head.weight.step >= wte.step) return wte;
  return { dims: [cols, rows], data: transposeMatrix(values, rows, cols), step: head.weight.step };
}

/** Follows the export's graph and returns GPT-2's parameters; `heads` comes from config.json. */
export function readGpt2Export(model: OnnxModel, heads: number): Gpt2Export {
  const g = new GraphIndex(decoderGraph(model));
  const { wte, wpe, sum } = embeddings(g);
  const [vocabSize, embd] = wte.dims as [number, number];
  if (wpe.dims[1] !== embd) fail(`position table width ${wpe.dims[1]} is not the embedding width ${embd}`);
  if (embd % heads !== 0) fail(`n_embd ${embd} is not a multiple of n_head ${heads}`);
  const params = new Map<string, Float32Array>([
    [WTE, wte.data],
    [WPE, wpe.data],
  ]);
  let stream = sum;
  let epsilon: number | null = null;
  let inner: number | null = null;
  const checkEpsilon = (ln: LayerNorm): void => {
    epsilon ??= ln.epsilon;
    if (Math.abs(ln.epsilon - epsilon) > 1e-12) fail('LayerNorms with different epsilons');
  };
  const vector = (name: string, values: Float32Array | null, length: number): void => {
    if (!values || values.length !== length) fail(`${name} has no bias of ${length} values`);
    params.set(name, values);
  };
  for (let layer = 0; ; layer++) {
    const ln1 = layerNormOf(g, stream);
    if (!ln1) fail(`no LayerNorm reads the residual stream before block ${layer}`);
    checkEpsilon(ln1);
    const qkv = linearReading(g, ln1.output);
    if (!qkv) fail(`no projection reads the LayerNorm before block ${layer}`);
    if (qkv.weight.dims[0] === embd && qkv.weight.dims[1] === vocabSize) {
      // The final LayerNorm and the LM head: it must be the token embedding (tied).
      if (qkv.bias) fail('the LM head has a bias');
      const tied = tiedTable(g, qkv, wte);
      if (!tied) fail('the LM head is not tied to the token embedding');
      params.set(WTE, tied.data);
      params.set(`${LN_F}.weight`, ln1.weight);
      params.set(`${LN_F}.bias`, ln1.bias);
      if (layer === 0) fail('no transformer blocks');
      const dims: Gpt2Dims = { layers: layer, heads, embd, positions: wpe.dims[0]!, vocabSize, inner: inner ?? 4 * embd };
      return { dims, layerNormEpsilon: epsilon ?? 1e-5, params };
    }
    const name = (suffix: string): string => layerParamName(layer, suffix);
    if (qkv.weight.dims[0] !== embd || qkv.weight.dims[1] !== 3 * embd) {
      fail(`block ${layer}'s first projection is ${qkv.weight.dims.join('x')}, not ${embd}x${3 * embd}`);
    }
    const attn = residualAdd(g, stream, embd);
    if (!attn || attn.linear.weight.dims[1] !== embd) fail(`block ${layer} has no attention output projection added to the stream`);
    if (!g.reaches(qkv.output, attn.linear.input, 2000)) fail(`block ${layer}'s attention output does not come from its q/k/v projection`);
    const ln2 = layerNormOf(g, attn.sum);
    if (!ln2) fail(`block ${layer} has no LayerNorm before its MLP`);
    checkEpsilon(ln2);
    const fc = linearReading(g, ln2.output);
    if (!fc || fc.weight.dims[0] !== embd) fail(`block ${layer} has no MLP input projection`);
    inner ??= fc.weight.dims[1]!;
    if (fc.weight.dims[1] !== inner) fail('MLP widths differ between blocks');
    const mlp = residualAdd(g, attn.sum, inner);
    if (!mlp || mlp.linear.weight.dims[1] !== embd) fail(`block ${layer} has no MLP output projection added to the stream`);
    // GPT-2's GELU is the tanh approximation: elementwise ops with a Tanh between the two.
    if (!g.reaches(fc.output, mlp.linear.input, 64, ELEMENTWISE)) fail(`block ${layer}'s MLP activation is not elementwise`);
    if (!activationHasTanh(g, fc.output, mlp.linear.input)) fail(`block ${layer}'s MLP activation is not GELU (tanh)`);
    params.set(name('ln_1.weight'), ln1.weight);
    params.set(name('ln_1.bias'), ln1.bias);
    params.set(name('attn.c_attn.weight'), qkv.weight.data);
    vector(name('attn.c_attn.bias'), qkv.bias, 3 * embd);
    params.set(name('attn.c_proj.weight'), attn.linear.weight.data);
    vector(name('attn.c_proj.bias'), attn.linear.bias, embd);
    params.set(name('ln_2.weight'), ln2.weight);
    params.set(name('ln_2.bias'), ln2.bias);
    params.set(name('mlp.c_fc.weight'), fc.weight.data);
    vector(name('mlp.c_fc.bias'), fc.bias, inner);
    params.set(name('mlp.c_proj.weight'), mlp.linear.weight.data);
    vector(name('mlp.c_proj.bias'), mlp.linear.bias, embd);
    stream = mlp.sum;
  }
}

function activationHasTanh(g: GraphIndex, from: string, to: string): boolean {
  const ops = new Set<string>();
  const seen = new Set<string>([from]);
  const queue = [from];
  while (queue.length > 0) {
    const value = queue.shift()!;
    if (value === to) continue;
    for (const node of g.consumers.get(value) ?? []) {
      if (!ELEMENTWISE.has(node.opType)) continue;
      ops.add(node.opType);
      for (const out of node.outputs) {
        if (!seen.has(out)) {
          seen.add(out);
          queue.push(out);
        }
      }
    }
  }
  return ops.has('Tanh');
}
