// A chat template that fails (a parse error, or an exception raised while rendering) costs
// a notice and falls back to the transcript format: the chat goes on.
import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { cleanup } from 'ink-testing-library';
import { guardedFormat } from '../../src/chat/formatGuard.js';
import { transcriptFormat, type PromptFormat } from '../../src/prompt/promptFormat.js';
import { startChat } from '../helpers/uiFakes.js';

afterEach(() => cleanup());

const chatTemplate = (template: string) => ({ template, bosToken: '', eosToken: '<|im_end|>' });

test('a chat template the Jinja parser rejects: a notice, the transcript format, and a reply', async () => {
  const chat = await startChat({
    engine: {
      hasChatTemplate: true,
      chatTemplate: chatTemplate('{% for message in messages %}{{ message.content }'),
      fallback: { tokens: [' fine'] },
    },
  });
  await chat.waitFor('Model gpt2 ready');
  await chat.type('hel', 'lo');
  await chat.send('');
  await chat.waitFor("The model's chat template failed");
  await chat.waitFor('plain transcript format instead');
  await chat.waitFor(' fine');
  assert.match(chat.engine.calls[0]?.prompt ?? '', /User: hello\nAssistant:$/);
  assert.equal(chat.count("The model's chat template failed"), 1, 'said once');
});

test('a chat template that raises while rendering one message: a notice, the transcript, and a reply', async () => {
  const template =
    "{% for m in messages %}{% if m['content'] == 'boom' %}{{ raise_exception('Conversation roles must alternate') }}{% endif %}" +
    "<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}";
  const chat = await startChat({ engine: { hasChatTemplate: true, chatTemplate: chatTemplate(template), fallback: { tokens: [' ok'] } } });
  await chat.waitFor('Model gpt2 ready');
  await chat.send('fine so far');
  await chat.waitFor(' ok');
  assert.match(chat.engine.calls[0]?.prompt ?? '', /<\|im_start\|>user\nfine so far/);
  await chat.send('boom');
  await chat.waitFor('Conversation roles must alternate');
  await chat.waitFor('plain transcript format instead');
  await chat.waitFor(/ok[\s\S]*ok/);
  assert.match(chat.engine.calls[1]?.prompt ?? '', /User: boom\nAssistant:$/);
});

test('guardedFormat: a throwing function answers from the fallback, reports once, and the fallback stays', () => {
  const errors: unknown[] = [];
  let calls = 0;
  const failing: PromptFormat = {
    ...transcriptFormat(),
    name: 'failing',
    render: () => {
      calls++;
      throw new Error('bad template');
    },
  };
  const format = guardedFormat(
    () => failing,
    () => transcriptFormat(),
    (e) => errors.push(e),
  );
  assert.equal(format.name, 'failing');
  assert.equal(format.render(null, [{ role: 'user', text: 'hi' }]), 'User: hi\nAssistant:');
  assert.equal(format.render(null, [{ role: 'user', text: 'again' }]), 'User: again\nAssistant:');
  assert.equal(format.name, 'transcript');
  assert.equal(errors.length, 1);
  assert.equal(calls, 1);
  const unbuilt = guardedFormat(
    () => {
      throw new Error('parse error');
    },
    () => transcriptFormat(),
    (e) => errors.push(e),
  );
  assert.equal(unbuilt.name, 'transcript');
  assert.equal(errors.length, 2);
});
