import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addUser, appendReply, emptyConversation } from '../src/session/conversation.js';
import { findPersonaPreset, PERSONA_PRESETS, resolvePersona } from '../src/session/personas.js';
import {
  assemblePrompt,
  chatTemplateFormat,
  CHATML,
  cutAtStop,
  formatFor,
  transcriptFormat,
} from '../src/session/promptFormat.js';

test('transcript: persona header, one line per speaker, ends with the assistant cue', () => {
  let c = emptyConversation('You are helpful.');
  c = addUser(c, 'Hello?');
  c = appendReply(c, 'Hi there.');
  c = addUser(c, 'How are you?\n');
  const prompt = assemblePrompt(transcriptFormat(), c.persona, c.turns);
  assert.equal(prompt, 'You are helpful.\n\nUser: Hello?\nAssistant: Hi there.\nUser: How are you?\nAssistant:');
});

test('transcript: names are settings, and the stop follows the user name', () => {
  const format = transcriptFormat({ user: 'Ann', assistant: 'Bot' });
  const c = addUser(emptyConversation(), 'yo');
  assert.equal(assemblePrompt(format, null, c.turns), 'Ann: yo\nBot:');
  assert.deepEqual(format.stop, ['\nAnn:']);
});

test('cleanReply cuts at the next turn, trims, and never shows <|endoftext|>', () => {
  const { cleanReply } = transcriptFormat();
  assert.equal(cleanReply(' Fine, thanks.\nUser: and you?'), 'Fine, thanks.');
  assert.equal(cleanReply(' Fine.<|endoftext|>garbage'), 'Fine.');
  assert.equal(cleanReply('  \n Two\nlines \n\n'), 'Two\nlines');
  assert.equal(cleanReply('\nUser: nothing'), '');
  // Only the user's name marks a new turn; the word elsewhere is kept.
  assert.equal(cleanReply(' The User: field is required.'), 'The User: field is required.');
});

test('cutAtStop picks the earliest marker', () => {
  assert.equal(cutAtStop('a<|endoftext|>b\nUser:c', ['\nUser:']), 'a');
  assert.equal(cutAtStop('a\nUser:b<|endoftext|>', ['\nUser:']), 'a');
  assert.equal(cutAtStop('plain', ['\nUser:']), 'plain');
});

test('segments are independent: the prompt is the concatenation of per-turn segments', () => {
  const format = transcriptFormat();
  let c = emptyConversation('P');
  c = addUser(c, 'a');
  c = appendReply(c, 'b');
  c = addUser(c, 'c');
  const joined = format.personaSegment('P') + c.turns.map((t) => format.turnSegment(t)).join('') + format.replyCue;
  assert.equal(assemblePrompt(format, c.persona, c.turns), joined);
});

test('chat template format (ChatML renderer) and format selection', () => {
  const format = chatTemplateFormat(CHATML);
  let c = emptyConversation('Be kind.');
  c = addUser(c, 'hi');
  assert.equal(
    assemblePrompt(format, c.persona, c.turns),
    '<|im_start|>system\nBe kind.<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n',
  );
  assert.equal(format.cleanReply('Hello!<|im_end|>\n<|im_start|>user'), 'Hello!');
  assert.equal(formatFor({ hasChatTemplate: false }).name, 'transcript');
  assert.equal(formatFor({ hasChatTemplate: true }).name, 'transcript', 'no renderer known: transcript');
  assert.equal(formatFor({ hasChatTemplate: true }, undefined, CHATML).name, 'chat-template:chatml');
});

test('persona presets by name; other text is the persona itself', () => {
  assert.deepEqual(PERSONA_PRESETS.map((p) => p.name), ['translate', 'qa', 'summarise']);
  assert.equal(findPersonaPreset('QA')?.name, 'qa');
  assert.equal(findPersonaPreset('summarize')?.name, 'summarise');
  assert.equal(resolvePersona('translate'), findPersonaPreset('translate')?.text);
  assert.equal(resolvePersona('You are a pirate.'), 'You are a pirate.');
  assert.equal(resolvePersona(''), null);
  assert.equal(resolvePersona(null), null);
});
