// Reads a GPT-2 export's weights by following its graph: from the token embedding along the
// residual stream, block by block, find the LayerNorm that reads the stream, the projection
// that reads the LayerNorm, the projection whose output is added back to the stream, and so
// on to the final LayerNorm and the LM head. Initializer names are never relied on (exports
// differ in naming and constant folding); only the wiring and the op types are. Anything
// that does not fit GPT-2's shape throws UnrecognisedGraph with the reason.

import { type Gpt2Dims, LN_F, WPE, WTE, layerParamName } from './gpt2Weights.js';
import type { OnnxModel, OnnxNode, OnnxTensor } from './onnxReader.js';

export class UnrecognisedGraph extends Error {}

export interface Gpt2Export {
  dims: Gpt2Dims;
  layerNormEpsilon: number;
  /** Hugging Face names (see gpt2Weights.ts) to values, Conv1D layout [in, out]. */
  params: Map<string, Float32Array>;
}

interface Constant {
  dims: number[];
  data: Float32Array;
}

interface Linear {
  node: OnnxNode;
  /** The value the projection reads, shape-only ops before it looked through. */
  input: string;
  /** Its result, the bias added (the Add's output when the bias is a separate node). */
  output: string;
  weight: Constant; // [in, out]
  bias: Float32Array | null;
}

interface LayerNorm {
  input: string;
  output: string;
  weight: Float32Array;
  bias: Float32Array;
  epsilon: number;
}

const FLOAT = 1;
/** Ops that only change a value's shape: the graph may put them between two real ops. */
const SHAPE_OPS = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Identity']);
const ELEMENTWISE = new Set(['Mul', 'Add', 'Pow', 'Tanh', 'Div', 'Sub', ...SHAPE_OPS]);

function fail(message: string): never {
  throw new UnrecognisedGraph(message);
}

function tensorFloats(t: OnnxTensor): Float32Array {
  if (t.dataType !== FLOAT) fail(`tensor ${t.name} is not float32 (type ${t.dataType})`);
  const count = t.dims.reduce((a, b) => a * b, 1);
  if (t.floatData.length > 0) return Float32Array.from(t.floatData);
  const bytes = t.bytes();
  if (bytes.byteLength !== count * 4) fail(`tensor ${t.name} has ${bytes.byteLength} bytes for ${count} floats`);
  // A copy: the file's bytes need not be 4-byte aligned.
  const out = new Float32Array(count);
  new Uint8Array(out.buffer).set(bytes);
  return out;
}

/** The transpose, computed only when its values are first read (a tied LM head never is). */
function transpose2d(c: Constant): Constant {
  const [rows, cols] = c.dims as [number, number];
  let data: Float32Array | null = null;
  return {
    dims: [cols, rows],
    get data(): Float32Array {
      if (data) return data;
      const source = c.data;
      data = new Float32Array(rows * cols);
      const TILE = 64;
      for (let r0 = 0; r0 < rows; r0 += TILE) {
        for (let k0 = 0; k0 < cols; k0 += TILE) {
          for (let r = r0; r < Math.min(rows, r0 + TILE); r++) {
            for (let k = k0; k < Math.min(cols, k0 + TILE); k++) data[k * rows + r] = source[r * cols + k]!;
          }
        }
      }
      return data;
    },
  };
}

class GraphIndex {
  readonly producer = new Map<string, OnnxNode>();
  readonly consumers = new Map<string, OnnxNode[]>();
  private readonly constants = new Map<string, Constant | null>();

  constructor(readonly model: OnnxModel) {
    for (const node of model.nodes) {
      for (const output of node.outputs) this.producer.set(output, node);
      for (const input of node.inputs) {
        if (input === '') continue;
        const list = this.consumers.get(input) ?? [];
        list.push(node);
        this.consumers.set(input, list);
      }
    }
  }

  /** The constant float value of `name` (initializer, Constant node, or Identity/Transpose of one). */
  constant(name: string): Constant | null {
    if (this.constants.has(name)) return this.constants.get(name)!;
    let result: Constant | null = null;
    const init = this.model.initializers.get(name);
    const node = this.producer.get(name);
    if (init) {
      if (init.dataType === FLOAT) result = { dims: init.dims, data: tensorFloats(init) };
    } else if (node?.opType === 'Constant') {
      const t = node.attributes.get('value')?.t;
      if (t && t.dataType === FLOAT) result = { dims: t.dims, data: tensorFloats(t) };
    } else if (node && (node.opType === 'Identity' || node.opType === 'Cast')) {
      result = this.constant(node.inputs[0]!);
    } else if (node?.opType === 'Transpose') {
      const source = this.constant(node.inputs[0]!);
      const perm = node.attributes.get('perm')?.ints;
      if (source && source.dims.length === 2 && (perm === undefined || (perm[0] === 1 && perm[1] === 0))) {
        result = transpose2d(source);
      }
    }
    this.constants.set(name, result);
    return result;
  }

  private linearsByOutput: Map<string, Linear> | null = null;

  /** The projection whose result (bias included) is `value`. */
  linearProducing(value: string): Linear | null {
    if (!this.linearsByOutput) {
      this.linearsByOutput = new Map();
      for (const node of this.model.nodes) {
        const linear = asLinear(this, node);
        if (linear) this.linearsByOutput.set(linear.output, linear);
      }
    }
    return this.linearsByOutput.get(value) ?? null;
  }

  /** `name` with shape-only ops before it stripped. */
  source(name: string): string {
    let node = this.producer.get(name);
    while (node && SHAPE_OPS.has(node.opType)) {
      name = node.inputs[0]!;
      node = this.producer.get(name);
    }
    return name;
  }

  /** The consumers of `name`, looking through shape-only ops after it. */
  users(name: string): OnnxNode[] {
    const out: OnnxNode[] = [];
    for (const node of this.consumers.get(name) ?? []) {
      if (SHAPE_OPS.has(node.opType) && node.inputs[0] === name) out.push(...this.users(node.outputs[0]!));
      else out.push(node);
    }
    return out;
  }

  /** Whether `target` is reachable forward from `from` (through `through` ops only, if given). */
  reaches(from: string, target: string, limit = 400, through?: Set<string>): boolean {
    const seen = new Set<string>([from]);
    const queue = [from];
    let visited = 0;
    while (queue.length > 0 && visited++ < limit) {
      const value = queue.shift()!;
      if (value === target) return true;
      for (const node of this.consumers.get(value) ?? []) {
        if (through && !through.has(node.opType)) continue;
        for (const output of node.outputs) {
          if (!seen.has(output)) {
            seen.add(output);
            queue.push(output);
          }
        }
      }
    }
    return false;
  }
}

/** `node` as a projection (MatMul or Gemm with a constant weight), or null. */
function asLinear(g: GraphIndex, node: OnnxNode): Linear | null {
  let weight: Constant | null = null;
  let bias: Float32Array | null = null;
  let output = node.outputs[0]!;
  if (node.opType === 'MatMul') {
    weight = g.constant(node.inputs[1]!);
    if (!weight || weight.dims.length !== 2) return null;
    // A bias is an Add of a constant vector right after.
    const users = g.users(output);
    if (users.length === 1 && users[0]!.opType === 'Add') {
      const add = users[0]!;
      const other = add.inputs.find((x) => g.source(x) !== g.source(output) && g.constant(x) !== null);
      const vector = other === undefined ? null : g.constant(other);
      if (vector && vector.data.length === weight.dims[1]) {
        bias = vector.data;
        output = add.outputs[0]!;
      }
    }
  } else if (node.opType === 'Gemm') {
    const attr = (name: string, fallback: number): number => node.attributes.get(name)?.i ?? fallback;
    const alpha = node.attributes.get('alpha')?.f ?? 1;
    const beta = node.attributes.get('beta')?.f ?? 1;
    if (attr('transA', 0) !== 0 || alpha !== 1 || beta !== 1) return null;
    weight = g.constant(node.inputs[1]!);
    if (!weight || weight.dims.length !== 2) return null;
    if (attr('transB', 0) === 1) weight = transpose2d(weight);
    if (node.inputs[2]) {
      const c = g.constant(node.inputs[2]);
      if (!c || c.data.length !== weight.dims[1]) return null;
      bias = c.data;
    }
  } else {
    return null;
  }
  return { node, input: g.source(node.inputs[0]!), output: output, weight, bias };
}

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

/** The projection that reads `value` (through shape-only ops). */
function linearReading(g: GraphIndex, value: string): Linear | null {
  for (const node of g.users(value)) {
    const linear = asLinear(g, node);
    if (linear && linear.input === value) return g.linearProducing(linear.output);
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

function embeddings(g: GraphIndex): { wte: Constant; wpe: Constant; sum: string } {
  let wte: Constant | null = null;
  let wpe: Constant | null = null;
  let tokenOut = '';
  let positionOut = '';
  for (const node of g.model.nodes) {
    if (node.opType !== 'Gather' || (node.attributes.get('axis')?.i ?? 0) !== 0) continue;
    const table = g.constant(node.inputs[0]!);
    if (!table || table.dims.length !== 2) continue;
    if (g.source(node.inputs[1]!) === 'input_ids') {
      wte = table;
      tokenOut = node.outputs[0]!;
    } else {
      wpe = table;
      positionOut = node.outputs[0]!;
    }
  }
  if (!wte) fail('no token embedding (a Gather of a constant table by input_ids)');
  if (!wpe) fail('no learned position embedding (a second Gather of a constant table)');
  const add = g.users(tokenOut).find((n) => n.opType === 'Add' && n.inputs.some((x) => g.source(x) === positionOut));
  if (!add) fail('token and position embeddings are not added together');
  return { wte, wpe, sum: add.outputs[0]! };
}

/**
 * Whether the LM head reads the token embedding: through a Transpose of the very table the
 * embedding Gather reads (as de-duplicated exports do), or a stored copy with equal values.
 */
function tiedToEmbedding(g: GraphIndex, head: Linear, wte: Constant): boolean {
  const weightInput = head.node.inputs[1]!;
  const producer = g.producer.get(weightInput);
  const table = producer?.opType === 'Transpose' ? producer.inputs[0]! : head.node.opType === 'Gemm' ? weightInput : null;
  if (table !== null && g.constant(table) === wte) return true;
  const [rows, cols] = head.weight.dims as [number, number]; // [embd, vocab]
  const values = head.weight.data;
  for (let e = 0; e < rows; e++) for (let v = 0; v < cols; v++) if (values[e * cols + v] !== wte.data[v * rows + e]) return false;
  return true;
}

/** Follows the export's graph and returns GPT-2's parameters; `heads` comes from config.json. */
export function readGpt2Export(model: OnnxModel, heads: number): Gpt2Export {
  const g = new GraphIndex(model);
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
      if (!tiedToEmbedding(g, qkv, wte)) fail('the LM head is not tied to the token embedding');
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
