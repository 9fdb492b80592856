// Initializers written lazily from a parameter source, and the projection x · W in each
// precision: shared by the GPT-2 and Llama-family builders.

import { DataType, GraphBuilder, int, ints } from './onnxGraph.js';
import type { LazyBytes } from './protobufWriter.js';
import { Q4_BLOCK, type Q4Matrix, type QuantizedMatrix, quantizeColumns, quantizeQ4, quantizeTransposed } from './quantize.js';

/** fp32; q8: int8 DynamicQuantizeMatMul everywhere; q4: 4-bit MatMulNBits (block 32,
 * accuracy_level 4: int8 maths on the activations) for attention and MLP, the LM head and
 * the embedding int8 as in q8. */
export type Precision = 'fp32' | 'q8' | 'q4';

/** Values of a parameter by name, produced when the writer reaches it. */
export type ParamSource = (name: string) => Float32Array;

/**
 * 4-bit blocks already in Parley's q4 scheme for a projection, by name (a converted export's
 * MatMulNBits blocks), or null: the q4 projection then quantizes the values itself.
 */
export type Q4Source = (name: string) => Q4Matrix | null;

export const MS_DOMAIN = 'com.microsoft';

export function floatBytes(values: Float32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

export function lazyFloats(count: number, produce: () => Float32Array): LazyBytes {
  return {
    byteLength: count * 4,
    *chunks() {
      yield floatBytes(produce());
    },
  };
}

/**
 * A quantized matrix is written as two initializers (values, then scales) from one
 * quantization: it is kept only until both have been written.
 */
export function lazyQuantized(rows: number, cols: number, scaleCount: number, quantize: () => QuantizedMatrix) {
  let memo: QuantizedMatrix | undefined;
  let written = 0;
  const part = (byteLength: number, pick: (q: QuantizedMatrix) => Uint8Array): LazyBytes => ({
    byteLength,
    *chunks() {
      memo ??= quantize();
      yield pick(memo);
      if (++written % 2 === 0) memo = undefined;
    },
  });
  return {
    values: part(rows * cols, (q) => new Uint8Array(q.values.buffer, q.values.byteOffset, q.values.byteLength)),
    scales: part(scaleCount * 4, (q) => floatBytes(q.scales)),
  };
}

export interface Projector {
  /** An fp32 initializer `name` of `shape`, its values pulled from the source when written. */
  floatParam(name: string, shape: readonly number[]): string;
  /**
   * x [..., rows] · W [rows, cols], plus `bias` when given (DynamicQuantizeMatMul and
   * MatMulNBits take it in the same node).
   */
  project(x: string, weight: string, rows: number, cols: number, bias?: string): string;
}

export function makeProjector(g: GraphBuilder, param: ParamSource, precision: Precision, keptQ4?: Q4Source): Projector {
  const floatParam = (name: string, shape: readonly number[]): string =>
    g.initializer(
      name,
      DataType.FLOAT,
      shape,
      lazyFloats(
        shape.reduce((a, b) => a * b, 1),
        () => param(name),
      ),
    );

  const projectQ4 = (x: string, weight: string, rows: number, cols: number, bias?: string): string => {
    const blocks = Math.ceil(rows / Q4_BLOCK);
    let memo: ReturnType<typeof quantizeQ4> | undefined;
    let written = 0;
    const part = (byteLength: number, pick: (q: ReturnType<typeof quantizeQ4>) => Uint8Array): LazyBytes => ({
      byteLength,
      *chunks() {
        memo ??= keptQ4?.(weight) ?? quantizeQ4(param(weight), rows, cols);
        yield pick(memo);
        if (++written % 2 === 0) memo = undefined;
      },
    });
    const packed = g.initializer(
      `${weight}_q4`,
      DataType.UINT8,
      [cols, blocks, Q4_BLOCK / 2],
      part(cols * blocks * (Q4_BLOCK / 2), (q) => q.packed),
    );
    const scales = g.initializer(
      `${weight}_q4_scale`,
      DataType.FLOAT,
      [cols * blocks],
      part(cols * blocks * 4, (q) => floatBytes(q.scales)),
    );
    const inputs = [x, packed, scales, ...(bias === undefined ? [] : ['', '', floatParam(bias, [cols])])];
    return g.op('MatMulNBits', inputs, {
      domain: MS_DOMAIN,
      attributes: { K: int(rows), N: int(cols), bits: int(4), block_size: int(Q4_BLOCK), accuracy_level: int(4) },
    });
  };

  const project = (x: string, weight: string, rows: number, cols: number, bias?: string): string => {
    if (precision === 'fp32') {
      const product = g.op('MatMul', [x, floatParam(weight, [rows, cols])]);
      return bias === undefined ? product : g.op('Add', [product, floatParam(bias, [cols])]);
    }
    if (precision === 'q4') return projectQ4(x, weight, rows, cols, bias);
    const quantized = lazyQuantized(rows, cols, cols, () => quantizeColumns(param(weight), rows, cols));
    const values = g.initializer(`${weight}_quantized`, DataType.INT8, [rows, cols], quantized.values);
    const scales = g.initializer(`${weight}_scale`, DataType.FLOAT, [cols], quantized.scales);
    const inputs = [x, values, scales, ...(bias === undefined ? [] : ['', floatParam(bias, [cols])])];
    return g.op('DynamicQuantizeMatMul', inputs, { domain: MS_DOMAIN });
  };

  return { floatParam, project };
}

/**
 * A tied embedding in q8/q4: one int8 copy in the LM head's [hidden, vocab] layout, one scale
 * per token. The lookup gathers its columns; the head is one DynamicQuantizeMatMul writing
 * `logits`. Never a per-step Transpose of the table.
 */
export function quantizedTiedEmbedding(
  g: GraphBuilder,
  param: ParamSource,
  name: string,
  dims: { hidden: number; vocabSize: number },
  inputIds: string,
): { tokens: string; lmHead: (x: string) => string } {
  const { hidden, vocabSize } = dims;
  const quantized = lazyQuantized(hidden, vocabSize, vocabSize, () => quantizeTransposed(param(name), vocabSize, hidden));
  const values = g.initializer(`${name}_quantized`, DataType.INT8, [hidden, vocabSize], quantized.values);
  const scales = g.initializer(`${name}_scale`, DataType.FLOAT, [vocabSize], quantized.scales);
  const gathered = g.op('Gather', [values, inputIds], { attributes: { axis: int(1) } });
  const tokenMajor = g.op('Transpose', [gathered], { attributes: { perm: ints([1, 2, 0]) } });
  const tokenFloats = g.op('Cast', [tokenMajor], { attributes: { to: int(DataType.FLOAT) } });
  const tokenScales = g.op('Unsqueeze', [g.op('Gather', [scales, inputIds]), g.int64s([2])]);
  return {
    tokens: g.op('Mul', [tokenFloats, tokenScales]),
    lmHead: (x) => g.op('DynamicQuantizeMatMul', [x, values, scales], { domain: MS_DOMAIN, outputs: ['logits'] }),
  };
}
