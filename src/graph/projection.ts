// Initializers written lazily from a parameter source, and the projection x · W in each
// precision: shared by the GPT-2 and Llama-family builders.

import { DataType, GraphBuilder, int } from './onnxGraph.js';
import type { LazyBytes } from './protobufWriter.js';
import { transposeMatrix } from './transpose.js';
import { Q4_BLOCK, type Q4Matrix, type QuantizedMatrix, quantizeColumns, quantizeQ4, quantizeRows } from './quantize.js';

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
 * One quantization written as several initializers (values, scales, another layout of the
 * values): kept only until every part has been written, then produced again if asked.
 */
export function lazyParts<Q>(quantize: () => Q, parts: readonly { byteLength: number; pick: (q: Q) => Uint8Array }[]): LazyBytes[] {
  let memo: Q | undefined;
  let written = 0;
  return parts.map(({ byteLength, pick }) => ({
    byteLength,
    *chunks() {
      memo ??= quantize();
      yield pick(memo);
      if (++written % parts.length === 0) memo = undefined;
    },
  }));
}

const int8Bytes = (values: Int8Array): Uint8Array => new Uint8Array(values.buffer, values.byteOffset, values.byteLength);

/** A quantized matrix written as two initializers (values, then scales) from one quantization. */
export function lazyQuantized(rows: number, cols: number, scaleCount: number, quantize: () => QuantizedMatrix) {
  const [values, scales] = lazyParts(quantize, [
    { byteLength: rows * cols, pick: (q) => int8Bytes(q.values) },
    { byteLength: scaleCount * 4, pick: (q) => floatBytes(q.scales) },
  ]);
  return { values: values!, scales: scales! };
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

/** The token lookup and the LM head of a tied embedding `name` [vocab, hidden], in `precision`. */
export function tiedEmbedding(
  g: GraphBuilder,
  floatParam: Projector['floatParam'],
  param: ParamSource,
  precision: Precision,
  name: string,
  dims: { hidden: number; vocabSize: number },
  inputIds: string,
): { tokens: string; lmHead: (x: string) => string } {
  return precision === 'fp32'
    ? float32TiedEmbedding(g, floatParam, param, name, dims, inputIds)
    : quantizedTiedEmbedding(g, param, name, dims, inputIds);
}

/**
 * A tied embedding in fp32: the lookup gathers rows of the table, and the head, one Gemm,
 * reads its own copy of it. Gemm prepacks its B, and onnxruntime frees an initializer only
 * when every node reading it has prepacked it, so one shared table stayed resident beside
 * the packed copy (see quantizedTiedEmbedding).
 */
function float32TiedEmbedding(
  g: GraphBuilder,
  floatParam: Projector['floatParam'],
  param: ParamSource,
  name: string,
  dims: { hidden: number; vocabSize: number },
  inputIds: string,
): { tokens: string; lmHead: (x: string) => string } {
  const { hidden, vocabSize } = dims;
  const tokens = g.op('Gather', [floatParam(name, [vocabSize, hidden]), inputIds]);
  const headTable = g.initializer(
    `${name}_head`,
    DataType.FLOAT,
    [vocabSize, hidden],
    lazyFloats(vocabSize * hidden, () => param(name)),
  );
  // Gemm takes 2-D inputs only: flatten [batch, kept, hidden] and restore the batch after.
  const lmHead = (x: string): string => {
    const flat = g.op('Reshape', [x, g.int64s([-1, hidden])]);
    const logits = g.op('Gemm', [flat, headTable], { attributes: { transB: int(1) } });
    const batch = g.op('Shape', [inputIds], { attributes: { end: int(1) } });
    const shape = g.op('Concat', [batch, g.int64s([-1, vocabSize])], { attributes: { axis: int(0) } });
    return g.op('Reshape', [logits, shape], { outputs: ['logits'] });
  };
  return { tokens, lmHead };
}

/**
 * A tied embedding in q8/q4: one int8 quantization, one scale per token, written twice: in
 * the LM head's [hidden, vocab] layout for its DynamicQuantizeMatMul, and token-major
 * [vocab, hidden] for the lookup, which gathers rows. Two tables, not one shared: the head
 * prepacks its B, and onnxruntime frees an initializer only when every node reading it has
 * prepacked it, so a shared table stayed resident beside the packed copy. Apart, the head's
 * table is dropped after packing, and the lookup's, written as external data (externalData.ts),
 * is a file mapping of which only the looked-up tokens' pages become resident. The same
 * values and scales as the shared table: the logits do not change.
 */
export function quantizedTiedEmbedding(
  g: GraphBuilder,
  param: ParamSource,
  name: string,
  dims: { hidden: number; vocabSize: number },
  inputIds: string,
): { tokens: string; lmHead: (x: string) => string } {
  const { hidden, vocabSize } = dims;
  const [headValues, tokenValues, scaleBytes] = lazyParts(
    () => quantizeRows(param(name), vocabSize, hidden),
    [
      { byteLength: hidden * vocabSize, pick: (q) => int8Bytes(transposeMatrix(q.values, vocabSize, hidden)) },
      { byteLength: vocabSize * hidden, pick: (q) => int8Bytes(q.values) },
      { byteLength: vocabSize * 4, pick: (q) => floatBytes(q.scales) },
    ],
  );
  const values = g.initializer(`${name}_quantized`, DataType.INT8, [hidden, vocabSize], headValues!);
  const rows = g.initializer(`${name}_quantized_rows`, DataType.INT8, [vocabSize, hidden], tokenValues!);
  const scales = g.initializer(`${name}_scale`, DataType.FLOAT, [vocabSize], scaleBytes!);
  const tokenFloats = g.op('Cast', [g.op('Gather', [rows, inputIds])], { attributes: { to: int(DataType.FLOAT) } });
  const tokenScales = g.op('Unsqueeze', [g.op('Gather', [scales, inputIds]), g.int64s([2])]);
  return {
    tokens: g.op('Mul', [tokenFloats, tokenScales]),
    lmHead: (x) => g.op('DynamicQuantizeMatMul', [x, values, scales], { domain: MS_DOMAIN, outputs: ['logits'] }),
  };
}
