// Chat templates rendered over the whole window, checked against the published templates in
// test/fixtures/chat-templates (see its README for what each exercises).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Template } from '@huggingface/jinja';
import { formatFor } from '../../src/prompt/promptFormat.js';
import { strftime, templateFormat } from '../../src/prompt/templateRenderer.js';
import type { Message } from '../../src/prompt/promptShape.js';
import { publishedTemplate } from '../helpers/fixtures.js';

const DAY = new Date('2026-03-05T23:30:00Z');
const BOS = '<s>';
const EOS = '</s>';

interface Case {
  file: string;
  stop: string[];
  prefixStable: boolean;
  systemRole: boolean;
}

const CASES: Case[] = [
  { file: 'Qwen-Qwen2.5-7B-Instruct', stop: ['<|im_end|>', '<|im_start|>', EOS], prefixStable: true, systemRole: true },
  { file: 'Qwen-Qwen3-0.6B', stop: ['<|im_end|>', '<|im_start|>', EOS], prefixStable: true, systemRole: true },
  { file: 'meta-llama-Llama-3.2-3B-Instruct', stop: ['<|eot_id|>', '<|start_header_id|>', EOS], prefixStable: true, systemRole: true },
  { file: 'mistralai-Mistral-Nemo-Instruct-2407', stop: [EOS, '[INST]'], prefixStable: false, systemRole: true },
  { file: 'microsoft-Phi-3.5-mini-instruct', stop: ['<|end|>', '<|user|>', EOS], prefixStable: true, systemRole: true },
  { file: 'google-gemma-2-2b-it', stop: ['<end_of_turn>', '<start_of_turn>', EOS], prefixStable: true, systemRole: false },
  { file: 'HuggingFaceTB-SmolLM3-3B', stop: ['<|im_end|>', '<|im_start|>', EOS], prefixStable: true, systemRole: true },
];

const formatOf = (file: string) => templateFormat({ template: publishedTemplate(file), bosToken: BOS, eosToken: EOS }, { date: DAY });

/** The template's own rendering of a message list, as transformers' apply_chat_template does it. */
function reference(file: string, messages: { role: string; content: string }[]): string {
  return new Template(publishedTemplate(file)).render({
    messages,
    add_generation_prompt: true,
    bos_token: BOS,
    eos_token: EOS,
    date_string: '05 Mar 2026',
  });
}

const chat: Message[] = [
  { role: 'user', text: 'Hi' },
  { role: 'assistant', text: 'Hello! How can I help?' },
  { role: 'user', text: 'Tell me a joke.' },
  { role: 'assistant', text: 'Why did the chicken cross the road?' },
  { role: 'user', text: 'Why?' },
];
const asMessages = (turns: Message[]) => turns.map((t) => ({ role: t.role, content: t.text }));

for (const c of CASES) {
  test(`${c.file}: the whole window renders as the template renders the conversation`, () => {
    const format = formatOf(c.file);
    assert.equal(format.render(null, chat), reference(c.file, asMessages(chat)));
    const withPersona = c.systemRole
      ? [{ role: 'system', content: 'Be brief.' }, ...asMessages(chat)]
      : [{ role: 'user', content: 'Be brief.\n\nHi' }, ...asMessages(chat).slice(1)];
    assert.equal(format.render('Be brief.', chat), reference(c.file, withPersona));
  });

  test(`${c.file}: stop markers and prefix stability`, () => {
    const format = formatOf(c.file);
    assert.deepEqual(format.stop, c.stop);
    assert.equal(format.prefixStable, c.prefixStable);
  });

  test(`${c.file}: pieces hold every turn and add up to the prompt's text`, () => {
    const format = formatOf(c.file);
    for (const persona of [null, 'Be brief.']) {
      const pieces = format.pieces(persona, chat);
      assert.equal(pieces.turns.length, chat.length);
      chat.forEach((t, i) => assert.ok(pieces.turns.join('').includes(t.text), `turn ${i} in the pieces`));
      const joined = pieces.persona + pieces.turns.join('') + pieces.frame;
      assert.equal([...joined].sort().join(''), [...format.render(persona, chat)].sort().join(''), 'same characters');
    }
  });
}

test('prefix property: on every prefix-stable template, a prompt plus its reply starts the next prompt', () => {
  const text = fc.string({ minLength: 1, maxLength: 40 }).filter((s) => s.trim() !== '' && !s.includes('\u2063'));
  for (const c of CASES.filter((k) => k.prefixStable)) {
    const format = formatOf(c.file);
    fc.assert(
      fc.property(
        fc.option(text, { nil: null }),
        fc.array(fc.tuple(text, text), { minLength: 1, maxLength: 5 }),
        text,
        (persona, exchanges, last) => {
          const turns: Message[] = exchanges.flatMap(([u, a]) => [
            { role: 'user' as const, text: u },
            { role: 'assistant' as const, text: a },
          ]);
          for (let k = 0; k < turns.length; k += 2) {
            const prompt = format.render(persona, turns.slice(0, k + 1));
            const reply = turns[k + 1]!.text.replace(/^\s*\n/, '').trimEnd();
            const next = format.render(persona, [...turns.slice(0, k + 2), { role: 'user', text: last }]);
            // Templates that trim content (Gemma, Llama) change a reply's edge whitespace.
            if (!next.startsWith(prompt + reply) && !next.startsWith(prompt + reply.trim())) return false;
          }
          return true;
        },
      ),
      { numRuns: 150, seed: 7 },
    );
  }
});

test('Qwen2.5: its default system message appears once, not before every turn', () => {
  const prompt = formatOf('Qwen-Qwen2.5-7B-Instruct').render(null, chat);
  assert.equal(prompt.split('You are Qwen, created by Alibaba Cloud.').length - 1, 1);
});

test('Llama-3.2: the system header appears once and carries the given day, not today', () => {
  const prompt = formatOf('meta-llama-Llama-3.2-3B-Instruct').render('Be brief.', chat);
  assert.equal(prompt.split('Cutting Knowledge Date').length - 1, 1);
  assert.match(prompt, /Today Date: 05 Mar 2026\n/);
  assert.ok(prompt.startsWith(BOS) && !prompt.startsWith(BOS + BOS));
});

test('a tokenizer that adds a BOS gets one at the start, never two', () => {
  const llama = templateFormat(
    { template: publishedTemplate('meta-llama-Llama-3.2-3B-Instruct'), bosToken: BOS, eosToken: EOS },
    { date: DAY, bos: BOS },
  );
  assert.ok(llama.render(null, chat).startsWith(`${BOS}<|start_header_id|>`), 'the template writes it: kept once');
  const phi = templateFormat(
    { template: publishedTemplate('microsoft-Phi-3.5-mini-instruct'), bosToken: BOS, eosToken: EOS },
    { bos: BOS },
  );
  assert.ok(phi.render(null, chat).startsWith(`${BOS}<|user|>`), 'the template does not: added');
  assert.ok(phi.pieces(null, chat).frame.includes(BOS), 'and counted');
});

test('Mistral: roles that do not alternate are joined instead of raising; the persona goes where the template puts it', () => {
  const format = formatOf('mistralai-Mistral-Nemo-Instruct-2407');
  const turns: Message[] = [
    { role: 'user', text: 'first try' },
    { role: 'user', text: 'second try' },
  ];
  assert.equal(format.render('Be brief.', turns), '<s>[INST]Be brief.\n\nfirst try\n\nsecond try[/INST]');
});

test('Gemma: no system role, so the persona opens the first user message', () => {
  const format = formatOf('google-gemma-2-2b-it');
  assert.equal(
    format.render('Be brief.', [{ role: 'user', text: 'Hi' }]),
    '<s><start_of_turn>user\nBe brief.\n\nHi<end_of_turn>\n<start_of_turn>model\n',
  );
});

test('special tokens the tokenizer lists decide the turn markers', () => {
  const format = templateFormat({
    template: publishedTemplate('Qwen-Qwen2.5-7B-Instruct'),
    bosToken: '',
    eosToken: '<|im_end|>',
    specialTokens: ['<|endoftext|>', '<|im_start|>', '<|im_end|>'],
  });
  assert.deepEqual(format.stop, ['<|im_end|>', '<|im_start|>']);
  assert.equal(format.cleanReply('Sure.<|im_end|>\n<|im_start|>user'), 'Sure.');
});

test('formatFor: the template when the model has one, the transcript otherwise', () => {
  const chatTemplate = { template: publishedTemplate('Qwen-Qwen2.5-7B-Instruct'), bosToken: '', eosToken: '<|im_end|>' };
  assert.equal(formatFor({ hasChatTemplate: true, chatTemplate }).name, 'chat-template');
  assert.equal(formatFor({ hasChatTemplate: false, chatTemplate: null }).name, 'transcript');
});

test('strftime: the fields templates use, in English and UTC', () => {
  assert.equal(strftime(DAY, '%d %b %Y'), '05 Mar 2026');
  assert.equal(strftime(DAY, '%A %B %m/%d/%y %H:%M:%S %%'), 'Thursday March 03/05/26 23:30:00 %');
});
