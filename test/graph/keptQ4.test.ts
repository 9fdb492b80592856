// A q4 graph built from a 4-bit export in Parley's own scheme writes the export's blocks as they are
// (test/fixtures/hub-smollm2's model_q4.onnx and model_q4f16.onnx): the builder never asks for a
// projection's values, and each fused projection's MatMulNBits holds its parts' bytes and scales one
// after another. concatQ4Columns refuses parts of different block counts.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { converterFor } from '../../src/graph/graphConverters.js';
import { groupQ4Columns } from '../../src/graph/groupedQuery.js';
import { concatQ4Columns, llamaKeptQ4 } from '../../src/graph/keptQ4.js';
import { readLlamaContribExport } from '../../src/graph/llamaContribExport.js';
import { GATE_UP_WEIGHT, QKV_WEIGHT } from '../../src/graph/llamaGraph.js';
import { llamaLayerParam } from '../../src/graph/llamaWeights.js';
import { parseOnnx } from '../../src/graph/onnxReader.js';
import { REPO_ROOT } from '../helpers/fixtures.js';

const DIR = path.join(REPO_ROOT, 'test', 'fixtures', 'hub-smollm2');
const CONFIG = JSON.parse(readFileSync(path.join(DIR, 'config.json'), 'utf8')) as Record<string, unknown>;
const load = (file: string) => parseOnnx(readFileSync(path.join(DIR, 'onnx', file)), path.join(DIR, 'onnx'));

describe('q4 blocks kept from the export', () => {
  for (const file of ['model_q4.onnx', 'model_q4f16.onnx']) {
    test(`${file}: the q4 build writes its blocks and never asks for a projection's values`, () => {
      const model = load(file);
      const exported = converterFor(CONFIG)!.read(model, CONFIG);
      assert.equal(exported.keptQ4, 14);
      const asked: string[] = [];
      const param = (name: string): Float32Array => {
        asked.push(name);
        const values = exported.params.get(name);
        if (!values) throw new Error(`no ${name}`);
        return values;
      };
      const built = parseOnnx(Buffer.concat([...exported.build(param, 'q4').encode()]), DIR);
      assert.deepEqual(
        asked.filter((name) => /_proj\.weight$/.test(name)),
        [],
      );
      const { q4 } = readLlamaContribExport(model, CONFIG);
      // q's columns in the grouped head order (the fixture: 4 heads, 2 KV heads of 16); its o_proj's heads are
      // half a block, so o_proj keeps Hugging Face's rows and its blocks as they are.
      const heads = { heads: 4, kvHeads: 2, headDim: 16 };
      const expected = groupQ4Columns(llamaKeptQ4(q4)(llamaLayerParam(1, QKV_WEIGHT))!, heads);
      const packed = built.initializers.get(`${llamaLayerParam(1, QKV_WEIGHT)}_q4`)!;
      assert.deepEqual(Buffer.from(packed.bytes()), Buffer.from(expected.packed));
      const oProj = llamaLayerParam(1, 'self_attn.o_proj.weight');
      assert.deepEqual(Buffer.from(built.initializers.get(`${oProj}_q4`)!.bytes()), Buffer.from(q4.get(oProj)!.packed));
      const gateUp = llamaKeptQ4(q4)(llamaLayerParam(0, GATE_UP_WEIGHT))!;
      const gateUpBytes = built.initializers.get(`${llamaLayerParam(0, GATE_UP_WEIGHT)}_q4`)!.bytes();
      assert.deepEqual(Buffer.from(gateUpBytes), Buffer.from(gateUp.packed));
      const gate = q4.get(llamaLayerParam(0, 'mlp.gate_proj.weight'))!;
      assert.deepEqual(Buffer.from(gateUpBytes.subarray(0, gate.packed.length)), Buffer.from(gate.packed), 'gate first, then up');
    });
  }

  test('fp32 export: nothing is kept, the q4 build quantizes the values', () => {
    assert.equal(converterFor(CONFIG)!.read(load('model.onnx'), CONFIG).keptQ4, 0);
  });

  test('concatQ4Columns: parts side by side; null for different block counts', () => {
    const a = { packed: Uint8Array.of(1, 2), scales: Float32Array.of(0.5), blocks: 1 };
    const b = { packed: Uint8Array.of(3, 4, 5, 6), scales: Float32Array.of(1, 2), blocks: 1 };
    assert.deepEqual(concatQ4Columns([a, b]), { packed: Uint8Array.of(1, 2, 3, 4, 5, 6), scales: Float32Array.of(0.5, 1, 2), blocks: 1 });
    assert.equal(concatQ4Columns([a, { ...b, blocks: 2 }]), null);
    assert.equal(concatQ4Columns([]), null);
  });
});
