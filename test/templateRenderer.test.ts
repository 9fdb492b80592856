import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHATML, assemblePrompt, formatFor } from '../src/session/promptFormat.js';
import { templateRenderer } from '../src/session/templateRenderer.js';

// The ChatML template as instruct models on the hub ship it in tokenizer_config.json.
const CHATML_TEMPLATE =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

const chat = { template: CHATML_TEMPLATE, bosToken: '<|endoftext|>', eosToken: '<|im_end|>' };

test("a tokenizer's ChatML template renders like the built-in ChatML renderer", () => {
  const r = templateRenderer(chat);
  assert.equal(r.message('user', 'Hi there'), CHATML.message('user', 'Hi there'));
  assert.equal(r.message('system', 'Be brief.'), CHATML.message('system', 'Be brief.'));
  assert.equal(r.generationPrompt, CHATML.generationPrompt);
  assert.deepEqual(r.stop, ['<|im_end|>', '<|im_start|>user']);
});

test('a model with a chat template gets the template format; the prompt ends with the cue', () => {
  const format = formatFor({ hasChatTemplate: true, chatTemplate: chat });
  assert.equal(format.name, 'chat-template:tokenizer');
  const prompt = assemblePrompt(format, 'Be brief.', [{ role: 'user', text: 'Hi' }]);
  assert.equal(prompt, '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n');
  assert.equal(format.cleanReply('Hello!<|im_end|>\n<|im_start|>user'), 'Hello!');
  assert.equal(formatFor({ hasChatTemplate: false, chatTemplate: null }).name, 'transcript');
});

test('a template without a system role takes the persona as a user message', () => {
  const strict =
    "{% for m in messages %}{% if m['role'] == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}" +
    "[{{ m['role'] }}] {{ m['content'] }}\n{% endfor %}{% if add_generation_prompt %}[assistant] {% endif %}";
  const r = templateRenderer({ template: strict, bosToken: '', eosToken: '</s>' });
  assert.equal(r.message('system', 'Be brief.'), '[user] Be brief.\n');
  assert.equal(r.generationPrompt, '[assistant] ');
});
