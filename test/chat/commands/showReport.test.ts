// /show's text: the model's facts in aligned rows, its template recognised and its first
// lines shown, and nothing from the model's folder able to reach the terminal as a control.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatParameterCount, formatShow, templateFamily, templateHead } from '../../../src/chat/commands/showReport.js';
import type { ModelInfo } from '../../../src/engine/protocol.js';

const base: ModelInfo = {
  modelId: '/models/tiny',
  contextLength: 256,
  vocabSize: 1000,
  eosTokenIds: [2],
  dtype: 'fp32',
  hasChatTemplate: false,
  randomWeights: false,
};

test('a local model: architecture, parameters, context, dtype, file, graph, defaults, folder, no template', () => {
  const text = formatShow({
    label: 'tiny',
    model: {
      ...base,
      generationDefaults: { temperature: 0.7, topK: 20 },
      facts: {
        modelType: 'qwen2',
        parameters: 1_234_567,
        parametersFrom: 'config',
        onnxFile: '/models/tiny/onnx/model.onnx',
        folder: '/models/tiny',
      },
    },
  });
  assert.deepEqual(text.split('\n'), [
    'Model         tiny',
    'Architecture  qwen2',
    'Parameters    1.2M (1,234,567, from config.json)',
    'Context       256 tokens',
    'Vocabulary    1000 tokens',
    'Dtype         fp32',
    'ONNX file     /models/tiny/onnx/model.onnx',
    "Graph         the model's own export, as it is",
    'Defaults      temperature 0.7, top-k 20',
    'Lives in      /models/tiny',
    'Template      none: the plain transcript format (User: / Assistant:)',
  ]);
});

test("no defaults of the model's own: Parley's apply; a hostile folder name and template are shown inert", () => {
  const text = formatShow({
    label: 'evil\u001b]0;owned\u0007',
    model: {
      ...base,
      chatTemplate: {
        template: '\u001b[2J{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}',
        bosToken: '',
        eosToken: '',
      },
      facts: { modelType: null, parameters: null, parametersFrom: 'graph', onnxFile: '/m/x\n.onnx', folder: '/m\u001b[31m' },
    },
  });
  assert.ok(!text.includes('\u001b') && !text.includes('\u0007'), JSON.stringify(text));
  assert.match(text, /Defaults +none \(Parley's defaults apply\)/);
  assert.match(text, /Template +ChatML chat template, 3 lines/);
  assert.match(text, /ONNX file +\/m\/x \.onnx/, 'a newline in a path does not break the table');
  assert.match(text, /\n {2}│ \{% for m in messages %\}<\|im_start\|>/);
});

test('template families, first lines, parameter counts', () => {
  assert.equal(templateFamily('<|start_header_id|>user'), 'Llama 3');
  assert.equal(templateFamily('[INST] x [/INST]'), 'Llama 2 / Mistral');
  assert.equal(templateFamily('{{ x }}'), 'its own format');
  assert.deepEqual(templateHead('a\n\nb\nc\nd\ne'), ['a', 'b', 'c', 'd', '…']);
  assert.equal(templateHead('x'.repeat(150))[0]!.length, 100);
  assert.equal(formatParameterCount(124_439_808), '124.4M');
  assert.equal(formatParameterCount(7_241_732_096), '7.24B');
  assert.equal(formatParameterCount(999), '999');
});
