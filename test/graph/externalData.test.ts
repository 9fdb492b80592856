// Graph files with their large tensors as external data: the layout of the data file, which
// tensors move, that lazy tensors are produced once, and that onnxruntime computes the same
// from the two files as from the graph with its tensors inside.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { EXTERNAL_MIN_BYTES, moveToExternalData, placeTensors, writeModelFiles } from '../../src/graph/externalData.js';
import { DataType, GraphBuilder } from '../../src/graph/onnxGraph.js';
import { parseOnnx } from '../../src/graph/onnxReader.js';
import { floatBytes, lazyFloats } from '../../src/graph/projection.js';

test('tensors are laid out one after another, each from a multiple of the alignment', () => {
  const { placements, byteLength } = placeTensors([10, 4096, 1, 5000], 4096);
  assert.deepEqual(placements, [
    { offset: 0, length: 10 },
    { offset: 4096, length: 4096 },
    { offset: 8192, length: 1 },
    { offset: 12288, length: 5000 },
  ]);
  assert.equal(byteLength, 17288);
  assert.deepEqual(placeTensors([]), { placements: [], byteLength: 0 });
});

const K = 128;
const N = 160; // W: 80 kB, above EXTERNAL_MIN_BYTES; the bias stays inside.

function values(count: number, seed: number): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = Math.sin(i * 0.37 + seed) * 0.5;
  return out;
}

/** y = x · W + b, W lazy (counting how often it is produced). */
function model(produced: { count: number }) {
  const g = new GraphBuilder();
  const x = g.input('x', DataType.FLOAT, [2, K]);
  g.output('y', DataType.FLOAT, [2, N]);
  const w = g.initializer(
    'w',
    DataType.FLOAT,
    [K, N],
    lazyFloats(K * N, () => {
      produced.count++;
      return values(K * N, 1);
    }),
  );
  const b = g.initializer('b', DataType.FLOAT, [N], floatBytes(values(N, 2)));
  g.node('Add', [g.op('MatMul', [x, w]), b], { outputs: ['y'] });
  return g.toModel('external-test', 17);
}

test('only tensors of at least EXTERNAL_MIN_BYTES move; each lazy one is produced once, into the data', () => {
  assert.ok(K * N * 4 >= EXTERNAL_MIN_BYTES && N * 4 < EXTERNAL_MIN_BYTES);
  const produced = { count: 0 };
  const m = model(produced);
  const data = moveToExternalData(m, 'm.onnx_data');
  assert.ok(data);
  assert.equal(produced.count, 0, 'nothing is produced before writing');
  const bytes = Buffer.concat([...data.chunks()]);
  assert.equal(produced.count, 1);
  assert.equal(bytes.byteLength, data.byteLength);
  assert.deepEqual(new Float32Array(bytes.buffer, bytes.byteOffset, K * N), values(K * N, 1));
  const graph = Buffer.concat([...m.encode()]);
  assert.equal(produced.count, 1, 'the graph no longer holds the moved tensor');
  assert.ok(graph.byteLength < 4096, `graph of ${graph.byteLength} bytes`);
  // The reader sees W as external data at offset 0 and b inside.
  const parsed = parseOnnx(graph, '/nonexistent');
  assert.deepEqual([...parsed.initializers.keys()].sort(), ['b', 'w']);
  assert.deepEqual([...parsed.initializers.get('b')!.bytes()], [...floatBytes(values(N, 2))]);
});

test('a graph with no large tensor is left whole', () => {
  const g = new GraphBuilder();
  const x = g.input('x', DataType.FLOAT, [1]);
  g.output('y', DataType.FLOAT, [1]);
  g.node('Add', [x, g.scalar(1)], { outputs: ['y'] });
  assert.equal(moveToExternalData(g.toModel('small', 17), 'small.onnx_data'), null);
});

test('onnxruntime computes the same from model.onnx + model.onnx_data as from the whole graph', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'parley-external-'));
  try {
    const file = path.join(dir, 'model.onnx');
    await writeModelFiles(file, model({ count: 0 }));
    const dataFile = `${file}_data`;
    assert.ok(existsSync(dataFile));
    const data = await readFile(dataFile);
    assert.equal(data.byteLength, K * N * 4);
    assert.ok((await readFile(file)).byteLength < 4096);

    const whole = await ort.InferenceSession.create(Buffer.concat([...model({ count: 0 }).encode()]));
    const split = await ort.InferenceSession.create(file);
    const x = new ort.Tensor('float32', values(2 * K, 3), [2, K]);
    const [a, b] = await Promise.all([whole.run({ x }), split.run({ x })]);
    assert.deepEqual(b['y']!.data, a['y']!.data);
    await Promise.all([whole.release(), split.release()]);

    // Written again with nothing large: the stale data file goes.
    const g = new GraphBuilder();
    const input = g.input('x', DataType.FLOAT, [1]);
    g.output('y', DataType.FLOAT, [1]);
    g.node('Add', [input, g.scalar(1)], { outputs: ['y'] });
    await writeModelFiles(file, g.toModel('small', 17));
    assert.ok(!existsSync(dataFile));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a data file name of its own (a graph written under a temporary name) is what the graph records', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'parley-external-'));
  try {
    const temp = path.join(dir, 'model_quantized.onnx.tmp-1');
    await writeModelFiles(temp, model({ count: 0 }), 'model_quantized.onnx_data');
    assert.ok(existsSync(path.join(dir, 'model_quantized.onnx_data')));
    assert.ok(!existsSync(`${temp}_data`));
    const s = await ort.InferenceSession.create(temp);
    await s.release();
    // Written again, the data file is replaced (a new file renamed in), not written into: a
    // process that maps the old one keeps its bytes.
    const before = (await stat(path.join(dir, 'model_quantized.onnx_data'))).ino;
    await writeModelFiles(temp, model({ count: 0 }), 'model_quantized.onnx_data');
    assert.notEqual((await stat(path.join(dir, 'model_quantized.onnx_data'))).ino, before);
    assert.deepEqual(
      (await readdir(dir)).sort(),
      ['model_quantized.onnx.tmp-1', 'model_quantized.onnx_data'],
      'no temporary data file is left',
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
