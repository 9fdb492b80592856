// The tied embedding's lookup and LM head in q8/q4: the token-major lookup table gives the same
// token vectors and logits as the previous form (a Gather over the head's own [hidden, vocab]
// table, then a Transpose), and no initializer a prepacking kernel reads is read by another
// node, so onnxruntime can drop it after packing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { DataType, GraphBuilder, int, ints } from '../../src/graph/onnxGraph.js';
import { parseOnnx } from '../../src/graph/onnxReader.js';
import { buildGpt2Model } from '../../src/graph/gpt2Graph.js';
import { buildLlamaModel } from '../../src/graph/llamaGraph.js';
import { generatedParams } from '../../src/graph/makeModelFolder.js';
import type { LlamaDims } from '../../src/graph/llamaWeights.js';
import { generatedLlamaParams } from '../../src/graph/makeLlamaFolder.js';
import { MS_DOMAIN, type Precision, lazyQuantized, quantizedTiedEmbedding } from '../../src/graph/projection.js';
import { transposeMatrix } from '../../src/graph/transpose.js';
import { quantizeRows } from '../../src/graph/quantize.js';

const HIDDEN = 24;
const VOCAB = 90;
const table = Float32Array.from({ length: VOCAB * HIDDEN }, (_, i) => Math.sin(i * 1.7) * (1 + (i % 7)));
const param = (name: string): Float32Array => {
  if (name !== 'embed') throw new Error(name);
  return table;
};

/** input_ids → the lookup's token vectors and the head's logits over them. */
function graph(form: 'rows' | 'previous'): Uint8Array {
  const g = new GraphBuilder();
  const ids = g.input('input_ids', DataType.INT64, [1, 'n']);
  g.output('tokens', DataType.FLOAT, [1, 'n', HIDDEN]);
  g.output('logits', DataType.FLOAT, [1, 'n', VOCAB]);
  let tokens: string;
  let lmHead: (x: string) => string;
  if (form === 'rows') {
    ({ tokens, lmHead } = quantizedTiedEmbedding(g, param, 'embed', { hidden: HIDDEN, vocabSize: VOCAB }, ids));
  } else {
    // The form before: one table, [hidden, vocab], gathered along its columns.
    const q = lazyQuantized(HIDDEN, VOCAB, VOCAB, () => {
      const rows = quantizeRows(table, VOCAB, HIDDEN);
      return { values: transposeMatrix(rows.values, VOCAB, HIDDEN), scales: rows.scales };
    });
    const values = g.initializer('embed_quantized', DataType.INT8, [HIDDEN, VOCAB], q.values);
    const scales = g.initializer('embed_scale', DataType.FLOAT, [VOCAB], q.scales);
    const gathered = g.op('Gather', [values, ids], { attributes: { axis: int(1) } });
    const tokenMajor = g.op('Transpose', [gathered], { attributes: { perm: ints([1, 2, 0]) } });
    const floats = g.op('Cast', [tokenMajor], { attributes: { to: int(DataType.FLOAT) } });
    const tokenScales = g.op('Unsqueeze', [g.op('Gather', [scales, ids]), g.int64s([2])]);
    tokens = g.op('Mul', [floats, tokenScales]);
    lmHead = (x) => g.op('DynamicQuantizeMatMul', [x, values, scales], { domain: MS_DOMAIN, outputs: ['logits'] });
  }
  g.node('Identity', [tokens], { outputs: ['tokens'] });
  lmHead(tokens);
  return Buffer.concat([...g.toModel('tied', 17).encode()]);
}

test('the token-major lookup gives the previous form’s token vectors and logits, bit for bit', async () => {
  const [rows, previous] = await Promise.all([ort.InferenceSession.create(graph('rows')), ort.InferenceSession.create(graph('previous'))]);
  const idList = [0, 89, 5, 5, 44, 17, 88, 1];
  const input_ids = new ort.Tensor('int64', BigInt64Array.from(idList, BigInt), [1, idList.length]);
  const [a, b] = await Promise.all([rows.run({ input_ids }), previous.run({ input_ids })]);
  assert.deepEqual(a['tokens']!.data, b['tokens']!.data);
  assert.deepEqual(a['logits']!.data, b['logits']!.data);
  // And the vectors are the int8 rows times their token's scale.
  const q = quantizeRows(table, VOCAB, HIDDEN);
  const tokens = a['tokens']!.data as Float32Array;
  idList.forEach((id, t) => {
    for (let h = 0; h < HIDDEN; h++) assert.equal(tokens[t * HIDDEN + h], Math.fround(q.values[id * HIDDEN + h]! * q.scales[id]!));
  });
  await Promise.all([rows.release(), previous.release()]);
});

const DIMS: LlamaDims = {
  arch: 'llama',
  layers: 1,
  heads: 4,
  kvHeads: 2,
  headDim: 8,
  hidden: 32,
  inner: 48,
  vocabSize: 100,
  positions: 32,
  rmsNormEps: 1e-5,
  ropeTheta: 10000,
  qkvBias: false,
  tied: true,
};

/** No initializer that MatMul, Gemm, DynamicQuantizeMatMul or MatMulNBits prepacks (input B) is read by another node. */
function assertPackedAlone(bytes: Uint8Array, vocab: number, hidden: number): void {
  const model = parseOnnx(bytes, '/nonexistent');
  const PREPACKING = new Set(['MatMul', 'Gemm', 'DynamicQuantizeMatMul', 'MatMulNBits']);
  const packedB = new Set(model.nodes.filter((n) => PREPACKING.has(n.opType)).map((n) => n.inputs[1]!));
  assert.ok(packedB.size > 0);
  for (const node of model.nodes) {
    for (const [i, input] of node.inputs.entries()) {
      if (!packedB.has(input) || (PREPACKING.has(node.opType) && i === 1)) continue;
      assert.fail(`${node.opType} reads ${input}, which is prepacked elsewhere`);
    }
  }
  // The lookup still has its table: a Gather reads an initializer of vocab × hidden.
  const gathers = model.nodes.filter(
    (n) => n.opType === 'Gather' && model.initializers.get(n.inputs[0]!)?.dims.join() === `${vocab},${hidden}`,
  );
  assert.equal(gathers.length, 1);
}

for (const precision of ['fp32', 'q8', 'q4'] as Precision[]) {
  test(`${precision} tied Llama graph: what a kernel prepacks, no other node reads`, () => {
    const bytes = Buffer.concat([...buildLlamaModel(DIMS, generatedLlamaParams({ dims: DIMS, seed: 3 }), precision).encode()]);
    assertPackedAlone(bytes, DIMS.vocabSize, DIMS.hidden);
  });
}

for (const precision of ['fp32', 'q8'] as Precision[]) {
  test(`${precision} GPT-2 graph: what a kernel prepacks, no other node reads`, () => {
    const options = { layers: 1, heads: 2, embd: 16, positions: 32, seed: 3 };
    const { dims, param: source } = generatedParams(options);
    assertPackedAlone(Buffer.concat([...buildGpt2Model(dims, source, precision).encode()]), dims.vocabSize, dims.embd);
  });
}
