// The contrib-op reader on test/fixtures/hub-smollm2 (GroupQueryAttention, SkipSimplifiedLayerNormalization,
// MatMulNBits; made by test/fixtures/tools/make_contrib_fixture.py from a seeded torch Llama): every file gives
// the torch module's weights under the shared names and layouts (fp32 exactly, fp16 within its rounding, 4-bit
// within one step of each block), 4-bit blocks that are byte for byte Parley's own quantizeQ4, and a damaged
// graph is refused with a one-line reason. hub-smollm2-rotary holds the other attention layout onnxruntime-genai's
// builder writes (three projections, RotaryEmbedding nodes), which must read the same.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { UnrecognisedGraph } from '../../src/graph/graphReading.js';
import { type LlamaContribExport, isContribExport, readLlamaContribExport } from '../../src/graph/llamaContribExport.js';
import { EMBED, LM_HEAD, llamaParamSpecs } from '../../src/graph/llamaWeights.js';
import { type OnnxModel, parseOnnx } from '../../src/graph/onnxReader.js';
import { Q4_BLOCK, quantizeQ4 } from '../../src/graph/quantize.js';
import { REPO_ROOT } from '../helpers/fixtures.js';

const DIR = path.join(REPO_ROOT, 'test', 'fixtures', 'hub-smollm2');
const CONFIG = JSON.parse(readFileSync(path.join(DIR, 'config.json'), 'utf8')) as Record<string, unknown>;
interface WeightStats {
  shape: number[];
  sum: number;
  sumsq: number;
  head: number[];
}
const REFERENCE = JSON.parse(readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'hub-smollm2-reference.json'), 'utf8')) as {
  weights: Record<string, WeightStats>;
};

const load = (file: string): OnnxModel => parseOnnx(readFileSync(path.join(DIR, 'onnx', file)), path.join(DIR, 'onnx'));
const read = (file: string, config = CONFIG): LlamaContribExport => readLlamaContribExport(load(file), config);
const fp32 = read('model.onnx');

/** A torch nn.Linear weight is [out, in]; the shared layout is [in, out]. */
const isProjection = (name: string): boolean => /_proj\.weight$/.test(name);

describe('the contrib-op reader on hub-smollm2', () => {
  test('fp32: the torch weights, under the shared names and layouts, and the config dims', () => {
    const { dims, params } = fp32;
    assert.deepEqual(
      [dims.layers, dims.heads, dims.kvHeads, dims.headDim, dims.hidden, dims.inner, dims.vocabSize, dims.tied, dims.qkvBias],
      [2, 4, 2, 16, 64, 128, 2051, true, false],
    );
    assert.equal(dims.rmsNormEps, 1e-5);
    assert.deepEqual(
      [...params.keys()].sort(),
      llamaParamSpecs(dims)
        .map((s) => s.name)
        .sort(),
      'the names the graph builder takes',
    );
    for (const spec of llamaParamSpecs(dims))
      assert.equal(
        params.get(spec.name)!.length,
        spec.dims.reduce((a, b) => a * b, 1),
        spec.name,
      );
    for (const [name, stats] of Object.entries(REFERENCE.weights)) {
      if (name === LM_HEAD) continue; // tied: the embedding
      const values = params.get(name);
      assert.ok(values, `${name} is read`);
      let sum = 0;
      let sumsq = 0;
      for (const v of values) {
        sum += v;
        sumsq += v * v;
      }
      assert.ok(Math.abs(sum - stats.sum) <= 1e-6 * (1 + Math.abs(stats.sum)), `${name}: sum ${sum}, torch ${stats.sum}`);
      assert.ok(Math.abs(sumsq - stats.sumsq) <= 1e-6 * stats.sumsq, `${name}: sum of squares`);
      const cols = stats.shape[0]!;
      const head = stats.head.map((_, j) => (isProjection(name) ? values[j * cols]! : values[j]!));
      assert.deepEqual(head, stats.head, `${name}: first values in torch's layout`);
    }
    assert.equal(fp32.q4.size, 0);
    assert.equal(fp32.nbitsProjections, 0);
  });

  test('fp16: every weight within float16 rounding of the fp32 file', () => {
    const half = read('model_fp16.onnx');
    assert.deepEqual(half.dims, fp32.dims);
    for (const [name, want] of fp32.params) {
      const got = half.params.get(name)!;
      let worst = 0;
      for (let i = 0; i < want.length; i++)
        worst = Math.max(worst, Math.abs(got[i]! - want[i]!) - Math.abs(want[i]!) * 2 ** -11 - 2 ** -25);
      assert.ok(worst <= 0, `${name}: off by more than float16 rounding`);
    }
  });

  for (const file of ['model_q4.onnx', 'model_q4f16.onnx']) {
    test(`${file}: projections within one step of their block, the rest as the float file, blocks kept`, () => {
      const q = read(file);
      const f16 = file.includes('f16');
      assert.deepEqual(q.dims, fp32.dims);
      assert.equal(q.nbitsProjections, 2 * (1 + 1 + 3) + 1, 'packed q/k/v, o, gate/up/down per layer, and the head');
      assert.equal(q.q4.size, 2 * 7 + 1, 'every projection (q, k, v apart) and the head have blocks in Parley’s scheme');
      for (const [name, want] of fp32.params) {
        const got = q.params.get(name)!;
        const blocks = q.q4.get(name);
        if (!isProjection(name)) {
          assert.equal(blocks, undefined);
          for (let i = 0; i < want.length; i++) {
            assert.ok(Math.abs(got[i]! - want[i]!) <= (f16 ? Math.abs(want[i]!) * 2 ** -11 + 2 ** -25 : 0), `${name}[${i}]`);
          }
          continue;
        }
        assert.ok(blocks, `${name} has its blocks`);
        const cols = blocks.scales.length / blocks.blocks;
        const rows = want.length / cols;
        for (let k = 0; k < rows; k++) {
          for (let n = 0; n < cols; n++) {
            // One step (the far end of the range clamps to +7); an fp16 scale is itself rounded.
            const step = Math.abs(blocks.scales[n * blocks.blocks + Math.floor(k / Q4_BLOCK)]!) * (f16 ? 1.01 : 1);
            assert.ok(Math.abs(got[k * cols + n]! - want[k * cols + n]!) <= step + 1e-7, `${name}[${k}, ${n}] off by more than its step`);
          }
        }
      }
      assert.ok(q.q4.has(LM_HEAD), 'the tied head’s own blocks');
    });
  }

  test('the fp32-scale blocks are the ones Parley’s quantizeQ4 makes from the fp32 weights', () => {
    const q = read('model_q4.onnx');
    for (const [name, blocks] of q.q4) {
      const source = name === LM_HEAD ? transpose(fp32.params.get(EMBED)!, fp32.dims.vocabSize, fp32.dims.hidden) : fp32.params.get(name)!;
      const cols = blocks.scales.length / blocks.blocks;
      const mine = quantizeQ4(source, source.length / cols, cols);
      assert.deepEqual(mine.scales, blocks.scales, `${name}: scales`);
      const differing = mine.packed.filter((byte, i) => byte !== blocks.packed[i]).length;
      assert.equal(differing, 0, `${name}: ${differing} of ${mine.packed.length} packed bytes differ`);
    }
  });

  test('the other layout (three projections, RotaryEmbedding before the attention) gives the same weights and blocks', () => {
    const rotaryDir = path.join(REPO_ROOT, 'test', 'fixtures', 'hub-smollm2-rotary', 'onnx');
    const model = parseOnnx(readFileSync(path.join(rotaryDir, 'model_q4.onnx')), rotaryDir);
    assert.ok(model.nodes.some((n) => n.opType === 'RotaryEmbedding'));
    const separate = readLlamaContribExport(model, CONFIG);
    const packed = read('model_q4.onnx');
    assert.deepEqual(separate.dims, packed.dims);
    assert.equal(separate.nbitsProjections, 2 * (3 + 1 + 3) + 1);
    assert.deepEqual([...separate.params.keys()].sort(), [...packed.params.keys()].sort());
    for (const [name, values] of packed.params) assert.deepEqual(separate.params.get(name), values, name);
    for (const [name, blocks] of packed.q4) {
      assert.deepEqual(separate.q4.get(name)!.scales, blocks.scales, name);
      assert.ok(Buffer.from(separate.q4.get(name)!.packed).equals(Buffer.from(blocks.packed)), name);
    }
  });

  test('a packed q/k/v bias (Qwen2 in this form) is split into the three biases; in some layers only, refused', () => {
    // The builder's packed Add after the q/k/v MatMul, put into the fp32 graph's layers.
    const width = (4 + 2 + 2) * 16;
    const bias = Float32Array.from({ length: width }, (_, i) => i / 1000);
    const bytes = new Uint8Array(bias.buffer);
    const withBias = (layers: number[]): OnnxModel => {
      const model = load('model.onnx');
      const initializers = new Map(model.initializers);
      initializers.set('qkv_bias', {
        name: 'qkv_bias',
        dims: [width],
        dataType: 1,
        bytes: () => bytes,
        floatData: [],
        int32Data: [],
        int64Data: [],
      });
      const nodes = model.nodes.flatMap((n) => {
        const layer = layers.find((l) => n.name.startsWith(`/model/layers.${l}/attn/`));
        if (layer === undefined) return [n];
        const qkv = `/model/layers.${layer}/attn/qkv_proj/MatMul/output_0`;
        const added = `/model/layers.${layer}/attn/qkv_proj/Add/output_0`;
        if (n.opType === 'GroupQueryAttention') return [{ ...n, inputs: [added, ...n.inputs.slice(1)] }];
        if (n.outputs[0] !== qkv) return [n];
        return [
          n,
          {
            ...n,
            opType: 'Add',
            domain: '',
            name: `/model/layers.${layer}/attn/qkv_proj/Add`,
            inputs: [qkv, 'qkv_bias'],
            outputs: [added],
            attributes: new Map(),
          },
        ];
      });
      return { ...model, nodes, initializers };
    };
    const { dims, params } = readLlamaContribExport(withBias([0, 1]), CONFIG);
    assert.equal(dims.qkvBias, true);
    for (const layer of [0, 1]) {
      assert.deepEqual(params.get(`model.layers.${layer}.self_attn.q_proj.bias`), bias.slice(0, 64));
      assert.deepEqual(params.get(`model.layers.${layer}.self_attn.k_proj.bias`), bias.slice(64, 96));
      assert.deepEqual(params.get(`model.layers.${layer}.self_attn.v_proj.bias`), bias.slice(96, 128));
    }
    assert.deepEqual(params.get('model.layers.0.self_attn.q_proj.weight'), fp32.params.get('model.layers.0.self_attn.q_proj.weight'));
    assert.deepEqual(
      [...params.keys()].sort(),
      llamaParamSpecs(dims)
        .map((s) => s.name)
        .sort(),
    );
    assert.throws(() => readLlamaContribExport(withBias([1]), CONFIG), /only some q\/k\/v projections have biases/);
  });

  test('only GroupQueryAttention graphs are taken for this reader', () => {
    assert.equal(isContribExport(load('model.onnx')), true);
    const plain = parseOnnx(readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'hf-llama-tiny', 'onnx', 'model.onnx')), DIR);
    assert.equal(isContribExport(plain), false);
  });
});

function transpose(m: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(m.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = m[r * cols + c]!;
  return out;
}

describe('a damaged contrib-op graph is refused with a one-line reason', () => {
  const refused = (model: OnnxModel, reason: RegExp, config = CONFIG): void => {
    assert.throws(
      () => readLlamaContribExport(model, config),
      (err: unknown) => err instanceof UnrecognisedGraph && reason.test(err.message) && !err.message.includes('\n'),
    );
  };
  const without = (model: OnnxModel, match: (name: string) => boolean): OnnxModel => ({
    ...model,
    nodes: model.nodes.filter((n) => !match(n.name)),
  });
  const edit = (model: OnnxModel, name: string, change: (inputs: string[]) => void): OnnxModel => ({
    ...model,
    nodes: model.nodes.map((n) => {
      if (n.name !== name) return n;
      const inputs = [...n.inputs];
      change(inputs);
      return { ...n, inputs };
    }),
  });

  for (const file of ['model.onnx', 'model_q4f16.onnx']) {
    test(`${file}: a post-attention norm removed`, () => {
      refused(
        without(load(file), (n) => n === '/model/layers.1/post_attention_layernorm/SkipLayerNorm'),
        /layer 1 post-attention norm/,
      );
    });
  }

  test('the SiLU of the gate removed', () => {
    refused(
      without(load('model.onnx'), (n) => n === '/model/layers.0/mlp/act_fn/Sigmoid'),
      /layer 0: the MLP is not SiLU\(gate\) × up/,
    );
  });

  test('the residual branch rewired past the norm (the attention output skips the add)', () => {
    const model = edit(load('model.onnx'), '/model/layers.0/post_attention_layernorm/SkipLayerNorm', (inputs) => {
      inputs[1] = '/model/layers.0/input_layernorm/output_0';
    });
    refused(model, /nothing adds the residual branch before the layer 0 post-attention norm/);
  });

  test('seqlens_k not from the attention mask', () => {
    const model = edit(load('model.onnx'), '/model/layers.1/attn/GroupQueryAttention', (inputs) => {
      inputs[5] = '/model/constants/TensorProto.INT64/1D/1';
    });
    refused(model, /layer 1: seqlens_k and total_sequence_length are not computed from attention_mask/);
  });

  test('a config that disagrees with the graph', () => {
    refused(load('model.onnx'), /GroupQueryAttention has 4\/2 heads, config.json 8\/2/, {
      ...CONFIG,
      num_attention_heads: 8,
      head_dim: 16,
    });
    refused(load('model.onnx'), /rotary caches do not match rope_theta 10000 /, { ...CONFIG, rope_theta: 10000 });
    refused(load('model.onnx'), /3 GroupQueryAttention nodes|2 GroupQueryAttention nodes for config.json's 3 layers/, {
      ...CONFIG,
      num_hidden_layers: 3,
    });
  });
});
