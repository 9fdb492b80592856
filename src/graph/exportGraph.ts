// An index over an exported decoder graph for following its wiring: who produces and who reads
// each value, the constant float value of a name (an initializer, a Constant node, a Transpose
// of one, or 8-bit integers read through DequantizeLinear), and the projections (MatMul, Gemm
// with or without transB, or onnxruntime's dynamic quantization: DynamicQuantizeLinear +
// MatMulInteger + the scale Muls; onnxruntime's MatMulNBits, dequantized) with their bias. Float16
// tensors read as float32. Anything unexpected throws UnrecognisedGraph.

import { halfToFloat } from './halfFloat.js';
import { type Constant, type ConstantSource, fail } from './graphReading.js';
import { type NBitsWeight, readMatMulNBits } from './matMulNBits.js';
import type { OnnxModel, OnnxNode, OnnxTensor } from './onnxReader.js';
import { transposeMatrix } from './transpose.js';

export interface Linear {
  node: OnnxNode;
  /** The value the projection reads, shape-only ops (and activation quantization) looked through. */
  input: string;
  /** Its result, the bias added (the Add's output when the bias is a separate node). */
  output: string;
  weight: Constant; // [in, out]
  bias: Float32Array | null;
  /** For a MatMulNBits: its blocks as stored (the weight above is them dequantized). */
  nbits?: NBitsWeight;
}

const FLOAT = 1;
const UINT8 = 2;
const INT8 = 3;
const FLOAT16 = 10;
/** Ops that only change a value's shape: the graph may put them between two real ops. */
export const SHAPE_OPS = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Identity']);

function tensorFloats(t: OnnxTensor): Float32Array {
  if (t.dataType === FLOAT16) return halfTensorFloats(t);
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

/** A float16 tensor's values as float32 (raw bytes, or bits in int32_data when not raw). */
function halfTensorFloats(t: OnnxTensor): Float32Array {
  const count = t.dims.reduce((a, b) => a * b, 1);
  let bits: ArrayLike<number>;
  if (t.int32Data.length > 0) bits = t.int32Data;
  else {
    const bytes = t.bytes();
    if (bytes.byteLength !== count * 2) fail(`tensor ${t.name} has ${bytes.byteLength} bytes for ${count} halves`);
    const aligned = new Uint8Array(count * 2);
    aligned.set(bytes);
    bits = new Uint16Array(aligned.buffer);
  }
  if (bits.length !== count) fail(`tensor ${t.name} has ${bits.length} values for ${count}`);
  return Float32Array.from(bits, halfToFloat);
}

const isFloat = (dataType: number): boolean => dataType === FLOAT || dataType === FLOAT16;

/** The values of an int8 or uint8 tensor, or null for other types. */
function tensorBytes(t: OnnxTensor): Int8Array | Uint8Array | null {
  if (t.dataType !== INT8 && t.dataType !== UINT8) return null;
  const count = t.dims.reduce((a, b) => a * b, 1);
  const raw = t.int32Data.length > 0 ? Uint8Array.from(t.int32Data, (v) => v & 0xff) : t.bytes();
  if (raw.byteLength !== count) fail(`tensor ${t.name} has ${raw.byteLength} bytes for ${count} values`);
  return t.dataType === INT8 ? new Int8Array(raw.buffer, raw.byteOffset, count) : raw;
}

/**
 * `(q - zeroPoint) * scale`, per tensor or per column of a 2-D [rows, cols] tensor (a scale of
 * `cols` values, as onnxruntime's per-channel MatMul weights have).
 */
function dequantize(q: Int8Array | Uint8Array, dims: number[], scale: Float32Array, zeroPoint: Int8Array | Uint8Array | null): Constant {
  const out = new Float32Array(q.length);
  const cols = dims.length === 2 ? dims[1]! : 1;
  if (scale.length !== 1 && scale.length !== cols)
    fail(`a quantization scale of ${scale.length} values for a tensor of shape ${dims.join('x')}`);
  const perColumn = scale.length > 1;
  for (let i = 0; i < q.length; i++) {
    const c = perColumn ? i % cols : 0;
    out[i] = (q[i]! - (zeroPoint?.[c] ?? 0)) * scale[c]!;
  }
  let step = 0;
  for (const s of scale) step = Math.max(step, Math.abs(s));
  return { dims: [...dims], data: out, step };
}

/** The transpose, computed only when its values are first read (a tied LM head never is). */
export function transpose2d(c: Constant): Constant {
  const [rows, cols] = c.dims as [number, number];
  let data: Float32Array | null = null;
  return {
    dims: [cols, rows],
    step: c.step,
    get data(): Float32Array {
      if (data) return data;
      data = transposeMatrix(c.data, rows, cols);
      return data;
    },
  };
}

export class GraphIndex implements ConstantSource {
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

  /** The integer values of `name` when it is an 8-bit initializer (or Identity of one). */
  private integers(name: string): { dims: number[]; values: Int8Array | Uint8Array } | null {
    const init = this.model.initializers.get(name);
    if (init) {
      const values = tensorBytes(init);
      return values ? { dims: init.dims, values } : null;
    }
    const node = this.producer.get(name);
    if (node?.opType === 'Constant') {
      const t = node.attributes.get('value')?.t;
      const values = t ? tensorBytes(t) : null;
      return t && values ? { dims: t.dims, values } : null;
    }
    if (node?.opType === 'Identity') return this.integers(node.inputs[0]!);
    // The quantizer moves a Transpose of a quantized table before its DequantizeLinear (the tied LM head).
    if (node?.opType === 'Transpose') {
      const source = this.integers(node.inputs[0]!);
      const perm = node.attributes.get('perm')?.ints;
      if (!source || source.dims.length !== 2 || (perm !== undefined && (perm[0] !== 1 || perm[1] !== 0))) return null;
      const [rows, cols] = source.dims as [number, number];
      const values = source.values instanceof Int8Array ? new Int8Array(rows * cols) : new Uint8Array(rows * cols);
      for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) values[c * rows + r] = source.values[r * cols + c]!;
      return { dims: [cols, rows], values };
    }
    return null;
  }

  /** The bytes of `name` when it is an 8-bit constant (packed 4-bit blocks are uint8 tensors). */
  bytesOf(name: string): { dims: number[]; values: Int8Array | Uint8Array } | null {
    return this.integers(name);
  }

  /** 8-bit integers `q` dequantized by `scale` and `zeroPoint` (names of constants). */
  dequantized(q: string, scale: string, zeroPoint: string | undefined): Constant | null {
    const values = this.integers(q);
    const scales = this.constant(scale);
    if (!values || !scales) return null;
    const zero = zeroPoint ? this.integers(zeroPoint) : null;
    if (zeroPoint && !zero) return null;
    return dequantize(values.values, values.dims, scales.data, zero?.values ?? null);
  }

  /**
   * The constant float value of `name`: an initializer, a Constant node, an Identity, Cast or
   * Transpose of one, or a DequantizeLinear of 8-bit integers.
   */
  constant(name: string): Constant | null {
    if (this.constants.has(name)) return this.constants.get(name)!;
    let result: Constant | null = null;
    const init = this.model.initializers.get(name);
    const node = this.producer.get(name);
    if (init) {
      if (isFloat(init.dataType)) result = { dims: init.dims, data: tensorFloats(init), step: 0 };
    } else if (node?.opType === 'Constant') {
      const t = node.attributes.get('value')?.t;
      if (t && isFloat(t.dataType)) result = { dims: t.dims, data: tensorFloats(t), step: 0 };
    } else if (node && (node.opType === 'Identity' || node.opType === 'Cast')) {
      result = this.constant(node.inputs[0]!);
    } else if (node?.opType === 'DequantizeLinear' && (node.attributes.get('axis')?.i ?? 1) === 1) {
      result = this.dequantized(node.inputs[0]!, node.inputs[1]!, node.inputs[2]);
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

/** `output` with a bias Add after it (a constant vector of `cols` values), when there is one. */
function withBias(g: GraphIndex, output: string, cols: number): { output: string; bias: Float32Array | null } {
  const users = g.users(output);
  if (users.length === 1 && users[0]!.opType === 'Add') {
    const add = users[0]!;
    const other = add.inputs.find((x) => g.source(x) !== g.source(output) && g.constant(x) !== null);
    const vector = other === undefined ? null : g.constant(other);
    if (vector && vector.data.length === cols) return { output: add.outputs[0]!, bias: vector.data };
  }
  return { output, bias: null };
}

/**
 * onnxruntime's dynamically quantized MatMul, as its quantizer writes it:
 * DynamicQuantizeLinear(A) → (Aq, A_scale, A_zp); MatMulInteger(Aq, Bq, A_zp, B_zp) → Cast(float)
 * → Mul by Mul(A_scale, B_scale). Returns the float input, the dequantized weight and the output.
 */
function quantizedMatMul(g: GraphIndex, node: OnnxNode): { input: string; weight: Constant; output: string } | null {
  const quantizer = g.producer.get(node.inputs[0]!);
  if (quantizer?.opType !== 'DynamicQuantizeLinear' || node.inputs[2] !== quantizer.outputs[2]) return null;
  const cast = g.users(node.outputs[0]!);
  if (cast.length !== 1 || cast[0]!.opType !== 'Cast' || cast[0]!.attributes.get('to')?.i !== FLOAT) return null;
  const scaled = g.users(cast[0]!.outputs[0]!);
  if (scaled.length !== 1 || scaled[0]!.opType !== 'Mul') return null;
  const scalesName = scaled[0]!.inputs.find((x) => x !== cast[0]!.outputs[0]);
  const scales = scalesName === undefined ? undefined : g.producer.get(scalesName);
  if (scales?.opType !== 'Mul' || !scales.inputs.includes(quantizer.outputs[1]!)) return null;
  const weightScale = scales.inputs.find((x) => x !== quantizer.outputs[1]);
  if (weightScale === undefined) return null;
  const weight = g.dequantized(node.inputs[1]!, weightScale, node.inputs[3] || undefined);
  if (!weight || weight.dims.length !== 2) return null;
  return { input: g.source(quantizer.inputs[0]!), weight, output: scaled[0]!.outputs[0]! };
}

/** `node` as a projection (MatMul, Gemm, MatMulNBits or a quantized MatMulInteger with a constant weight), or null. */
export function asLinear(g: GraphIndex, node: OnnxNode): Linear | null {
  if (node.opType === 'MatMulNBits') {
    const read = readMatMulNBits(g, node);
    if (!read) return null;
    const { weight, nbits } = read;
    return { node, input: g.source(node.inputs[0]!), ...withBias(g, node.outputs[0]!, weight.dims[1]!), weight, nbits };
  }
  if (node.opType === 'MatMul') {
    const weight = g.constant(node.inputs[1]!);
    if (!weight || weight.dims.length !== 2) return null;
    return { node, input: g.source(node.inputs[0]!), ...withBias(g, node.outputs[0]!, weight.dims[1]!), weight };
  }
  if (node.opType === 'MatMulInteger') {
    const quantized = quantizedMatMul(g, node);
    if (!quantized) return null;
    return { node, input: quantized.input, ...withBias(g, quantized.output, quantized.weight.dims[1]!), weight: quantized.weight };
  }
  if (node.opType !== 'Gemm') return null;
  const attr = (name: string, fallback: number): number => node.attributes.get(name)?.i ?? fallback;
  const alpha = node.attributes.get('alpha')?.f ?? 1;
  const beta = node.attributes.get('beta')?.f ?? 1;
  if (attr('transA', 0) !== 0 || alpha !== 1 || beta !== 1) return null;
  let weight = g.constant(node.inputs[1]!);
  if (!weight || weight.dims.length !== 2) return null;
  if (attr('transB', 0) === 1) weight = transpose2d(weight);
  let bias: Float32Array | null = null;
  if (node.inputs[2]) {
    const c = g.constant(node.inputs[2]);
    if (!c || c.data.length !== weight.dims[1]) return null;
    bias = c.data;
  }
  return { node, input: g.source(node.inputs[0]!), output: node.outputs[0]!, weight, bias };
}

/** The projection that reads `value` (through shape-only ops and activation quantization). */
export function linearReading(g: GraphIndex, value: string): Linear | null {
  for (const node of g.users(value)) {
    const candidates = node.opType === 'DynamicQuantizeLinear' ? g.users(node.outputs[0]!) : [node];
    for (const candidate of candidates) {
      const linear = asLinear(g, candidate);
      if (linear && linear.input === value) return g.linearProducing(linear.output);
    }
  }
  return null;
}

/**
 * The decoder graph to follow: the graph itself, or for Optimum's merged decoder (one `If` on
 * `use_cache_branch`) its with-past branch, which reads the outer graph's inputs and initializers.
 */
export function decoderGraph(model: OnnxModel): OnnxModel {
  const merged = model.nodes.find((n) => n.opType === 'If' && n.attributes.get('then_branch')?.g !== undefined);
  if (!merged) return model;
  const branch = merged.attributes.get('then_branch')!.g!;
  const outer = model.nodes.filter((n) => n !== merged);
  return {
    nodes: [...outer, ...branch.nodes],
    initializers: new Map([...model.initializers, ...branch.initializers]),
    inputs: model.inputs,
    outputs: model.outputs,
  };
}
