// Reads a Llama-family export's weights (Optimum's plain form: RMSNorm, rotary maths and eager
// attention written out as ops, MatMul projections, or onnxruntime's 8-bit MatMulInteger form)
// by following its graph, as gpt2Export.ts does for GPT-2: from the token embedding along the
// residual stream, block by block. Initializer names are never relied on. Which of a block's
// three projections is q, k or v is read from where each goes (q is the left operand of the
// scores MatMul, k its right one, v the right operand of the MatMul after the Softmax); gate
// and up from the Sigmoid of SiLU. The numbers config.json gives (heads, rotary) are checked
// against the weights' shapes; the probe against the source checks the rest.

import { GraphIndex, type Linear, SHAPE_OPS, asLinear, decoderGraph } from './exportGraph.js';
import { type Constant, fail } from './graphReading.js';
import { EMBED, FINAL_NORM, LM_HEAD, type LlamaDims, llamaDimsFromConfig, llamaLayerParam } from './llamaWeights.js';
import type { OnnxModel, OnnxNode } from './onnxReader.js';
import { isParleyQ4, q4Columns } from './matMulNBits.js';
import type { Q4Matrix } from './quantize.js';

/** What every Llama-family reader returns: the dimensions and Hugging Face-named parameters ([in, out] layouts). */
export interface LlamaExport {
  dims: LlamaDims;
  params: Map<string, Float32Array>;
  /** Projections read from MatMulNBits blocks in Parley's own 4-bit scheme, by the same names (a q4 build keeps them). */
  q4?: Map<string, Q4Matrix>;
}

const FLOAT = 1;
const FLOAT16 = 10;

/**
 * `value` and the values float Casts and shape-only ops make of it (exports cast around RMSNorm;
 * in a float16 file, as transformers.js converts them, those Casts are to float16).
 */
function aliases(g: GraphIndex, value: string): Set<string> {
  const out = new Set([value]);
  const queue = [value];
  while (queue.length > 0) {
    for (const node of g.consumers.get(queue.shift()!) ?? []) {
      const to = node.opType === 'Cast' ? node.attributes.get('to')?.i : undefined;
      const passes = SHAPE_OPS.has(node.opType) || to === FLOAT || to === FLOAT16;
      if (passes && !out.has(node.outputs[0]!)) {
        out.add(node.outputs[0]!);
        queue.push(node.outputs[0]!);
      }
    }
  }
  return out;
}

function usersOf(g: GraphIndex, value: string): OnnxNode[] {
  return [...aliases(g, value)].flatMap((v) => g.consumers.get(v) ?? []);
}

/** The constant among `node`'s inputs, if one is. */
function constantInput(g: GraphIndex, node: OnnxNode): Constant | null {
  for (const input of node.inputs) {
    const c = input ? g.constant(input) : null;
    if (c) return c;
  }
  return null;
}

/** x · rsqrt(mean(x²) + eps) · weight, written out; returns the normalised value, the weight and eps. */
function rmsNormOf(g: GraphIndex, input: string): { output: string; weight: Float32Array; epsilon: number } | null {
  const inputs = aliases(g, input);
  for (const pow of usersOf(g, input)) {
    if (pow.opType !== 'Pow' || constantInput(g, pow)?.data[0] !== 2) continue;
    const mean = g.users(pow.outputs[0]!).find((n) => n.opType === 'ReduceMean');
    const addEps = mean && g.users(mean.outputs[0]!).find((n) => n.opType === 'Add');
    const eps = addEps && constantInput(g, addEps);
    const sqrt = addEps && g.users(addEps.outputs[0]!).find((n) => n.opType === 'Sqrt');
    if (!eps || !sqrt) continue;
    // 1 / sqrt: a Div of one, or a Reciprocal.
    const inverse = g
      .users(sqrt.outputs[0]!)
      .find((n) => n.opType === 'Reciprocal' || (n.opType === 'Div' && n.inputs[1] === sqrt.outputs[0]));
    if (!inverse) continue;
    const scaled = g.users(inverse.outputs[0]!).find((n) => n.opType === 'Mul' && n.inputs.some((x) => inputs.has(x)));
    if (!scaled) continue;
    const weighted = usersOf(g, scaled.outputs[0]!).find((n) => n.opType === 'Mul' && constantInput(g, n) !== null);
    const weight = weighted && constantInput(g, weighted);
    if (!weighted || !weight) continue;
    return { output: weighted.outputs[0]!, weight: weight.data, epsilon: eps.data[0]! };
  }
  return null;
}

/** Every projection that reads `value`. */
function linearsReading(g: GraphIndex, value: string): Linear[] {
  const found: Linear[] = [];
  for (const node of usersOf(g, value)) {
    const candidates = node.opType === 'DynamicQuantizeLinear' ? g.users(node.outputs[0]!) : [node];
    for (const candidate of candidates) {
      const linear = asLinear(g, candidate);
      const producing = linear && g.linearProducing(linear.output);
      if (producing && !found.includes(producing)) found.push(producing);
    }
  }
  return found;
}

/** The Add of `stream` and the output of a projection; returns both. */
function residualAdd(g: GraphIndex, stream: string): { linear: Linear; sum: string } | null {
  const streams = aliases(g, stream);
  for (const add of usersOf(g, stream)) {
    if (add.opType !== 'Add') continue;
    const other = add.inputs.find((x) => !streams.has(x));
    const linear = other === undefined ? null : (g.linearProducing(other) ?? g.linearProducing(g.source(other)));
    if (linear) return { linear, sum: add.outputs[0]! };
  }
  return null;
}

/** Whether `value` comes from a Softmax through shape-only ops and Casts. */
function fromSoftmax(g: GraphIndex, value: string): boolean {
  let node = g.producer.get(value);
  while (node && (SHAPE_OPS.has(node.opType) || node.opType === 'Cast')) node = g.producer.get(node.inputs[0]!);
  return node?.opType === 'Softmax';
}

const SHAPED_BY_LATER_INPUTS = new Set([
  'Reshape',
  'Expand',
  'Tile',
  'Slice',
  'Gather',
  'Unsqueeze',
  'Squeeze',
  'ConstantOfShape',
  'Range',
]);

/**
 * Where a projection's output meets the attention maths: the first MatMul of two computed
 * values it reaches (looking through reshapes, rotary and cache ops): 'q' as its left operand,
 * 'k' as the right operand of a MatMul not fed by a Softmax, 'v' as the right operand of one that is.
 */
function attentionRole(g: GraphIndex, from: string): 'q' | 'k' | 'v' | null {
  const seen = new Set([from]);
  const queue = [from];
  for (let visited = 0; queue.length > 0 && visited < 400; visited++) {
    const value = queue.shift()!;
    for (const node of g.consumers.get(value) ?? []) {
      // Shapes computed from a value lead to unrelated reshapes: only data inputs are followed.
      if (node.opType === 'Shape' || node.opType === 'Size' || (SHAPED_BY_LATER_INPUTS.has(node.opType) && node.inputs[0] !== value))
        continue;
      if (node.opType === 'MatMul' && g.constant(node.inputs[1]!) === null) {
        if (node.inputs[0] === value) return 'q';
        return fromSoftmax(g, node.inputs[0]!) ? 'v' : 'k';
      }
      for (const out of node.outputs) {
        if (out && !seen.has(out)) {
          seen.add(out);
          queue.push(out);
        }
      }
    }
  }
  return null;
}

/** The head's table is the embedding's transpose (within the quantization steps of both). */
function isTied(head: Constant, embed: Constant): boolean {
  const [rows, cols] = head.dims as [number, number];
  const tolerance = ((head.step + embed.step) / 2) * (1 + 1e-3);
  for (let e = 0; e < rows; e++) {
    for (let v = 0; v < cols; v++) if (!(Math.abs(head.data[e * cols + v]! - embed.data[v * rows + e]!) <= tolerance)) return false;
  }
  return true;
}

/** Follows a plain Llama/Qwen2 export and returns its parameters; `config` is its config.json. */
export function readLlamaExport(model: OnnxModel, config: Record<string, unknown>): LlamaExport {
  const fromConfig = llamaDimsFromConfig(config);
  if (typeof fromConfig === 'string') fail(fromConfig);
  const g = new GraphIndex(decoderGraph(model));
  const gather = model.nodes.find(
    (n) => n.opType === 'Gather' && g.source(n.inputs[1]!) === 'input_ids' && g.constant(n.inputs[0]!) !== null,
  );
  const embed = gather ? g.constant(gather.inputs[0]!) : null;
  if (!gather || !embed || embed.dims.length !== 2) fail('no token embedding (a Gather of a constant table by input_ids)');
  const [vocabSize, hidden] = embed.dims as [number, number];
  const { heads, kvHeads, headDim } = fromConfig;
  if (hidden !== fromConfig.hidden || vocabSize !== fromConfig.vocabSize) {
    fail(`the embedding is ${vocabSize}x${hidden}, config.json says ${fromConfig.vocabSize}x${fromConfig.hidden}`);
  }
  const params = new Map<string, Float32Array>([[EMBED, embed.data]]);
  const q4 = new Map<string, Q4Matrix>();
  const setProjection = (name: string, linear: Linear): void => {
    params.set(name, linear.weight.data);
    if (linear.nbits && isParleyQ4(linear.nbits)) q4.set(name, q4Columns(linear.nbits, 0, linear.nbits.n));
  };
  let epsilon: number | null = null;
  let stream = gather.outputs[0]!;
  for (let layer = 0; ; layer++) {
    const name = (suffix: string): string => llamaLayerParam(layer, suffix);
    const norm1 = rmsNormOf(g, stream);
    if (!norm1) fail(`no RMSNorm reads the residual stream before block ${layer}`);
    epsilon ??= norm1.epsilon;
    const readers = linearsReading(g, norm1.output);
    const head = readers.length === 1 && readers[0]!.weight.dims[1] === vocabSize ? readers[0]! : null;
    if (head) {
      if (layer === 0) fail('no transformer blocks');
      if (head.bias) fail('the LM head has a bias');
      params.set(FINAL_NORM, norm1.weight);
      const tied = isTied(head.weight, embed);
      if (!tied) setProjection(LM_HEAD, head);
      if (layer !== fromConfig.layers) fail(`${layer} blocks, config.json says ${fromConfig.layers}`);
      return { dims: { ...fromConfig, rmsNormEps: epsilon, tied }, params, q4 };
    }
    if (readers.length !== 3) fail(`block ${layer}: ${readers.length} projections read the first RMSNorm, not q, k and v`);
    const roles = new Map(readers.map((r) => [attentionRole(g, r.output), r]));
    const q = roles.get('q');
    const k = roles.get('k');
    const v = roles.get('v');
    if (!q || !k || !v) fail(`block ${layer}: cannot tell q, k and v apart by where they go`);
    const width = (l: Linear, cols: number, what: string): void => {
      if (l.weight.dims[0] !== hidden || l.weight.dims[1] !== cols)
        fail(`block ${layer}: ${what} is ${l.weight.dims.join('x')}, not ${hidden}x${cols}`);
    };
    width(q, heads * headDim, 'q_proj');
    width(k, kvHeads * headDim, 'k_proj');
    width(v, kvHeads * headDim, 'v_proj');
    const biases = [q.bias, k.bias, v.bias].filter((b) => b !== null).length;
    if (biases !== 0 && biases !== 3) fail(`block ${layer}: only some of q, k, v have biases`);
    if ((biases === 3) !== fromConfig.qkvBias)
      fail(`block ${layer}: q/k/v biases ${biases === 3 ? 'present' : 'absent'}, config.json says otherwise`);
    const attn = residualAdd(g, stream);
    if (!attn || attn.linear.weight.dims[0] !== heads * headDim || attn.linear.weight.dims[1] !== hidden) {
      fail(`block ${layer} has no attention output projection added to the stream`);
    }
    if (attn.linear.bias) fail(`block ${layer}: the attention output projection has a bias`);
    const norm2 = rmsNormOf(g, attn.sum);
    if (!norm2) fail(`block ${layer} has no RMSNorm before its MLP`);
    const mlpIn = linearsReading(g, norm2.output);
    if (mlpIn.length !== 2) fail(`block ${layer}: ${mlpIn.length} projections read the MLP's RMSNorm, not gate and up`);
    const gate = mlpIn.find((l) => g.users(l.output).some((n) => n.opType === 'Sigmoid'));
    const up = mlpIn.find((l) => l !== gate);
    if (!gate || !up) fail(`block ${layer}: no SiLU (Sigmoid) after either MLP input projection`);
    const mlp = residualAdd(g, attn.sum);
    const inner = gate.weight.dims[1]!;
    if (!mlp || mlp.linear.weight.dims[0] !== inner || mlp.linear.weight.dims[1] !== hidden)
      fail(`block ${layer} has no MLP down projection added to the stream`);
    if (inner !== fromConfig.inner || up.weight.dims[1] !== inner)
      fail(`block ${layer}: MLP width ${inner}, config.json says ${fromConfig.inner}`);
    if (gate.bias || up.bias || mlp.linear.bias) fail(`block ${layer}: the MLP has biases`);
    params.set(name('input_layernorm.weight'), norm1.weight);
    setProjection(name('self_attn.q_proj.weight'), q);
    setProjection(name('self_attn.k_proj.weight'), k);
    setProjection(name('self_attn.v_proj.weight'), v);
    if (biases === 3) {
      params.set(name('self_attn.q_proj.bias'), q.bias!);
      params.set(name('self_attn.k_proj.bias'), k.bias!);
      params.set(name('self_attn.v_proj.bias'), v.bias!);
    }
    setProjection(name('self_attn.o_proj.weight'), attn.linear);
    params.set(name('post_attention_layernorm.weight'), norm2.weight);
    setProjection(name('mlp.gate_proj.weight'), gate);
    setProjection(name('mlp.up_proj.weight'), up);
    setProjection(name('mlp.down_proj.weight'), mlp.linear);
    stream = mlp.sum;
  }
}
