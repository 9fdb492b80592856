import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addUser, appendReply, emptyConversation } from '../../src/prompt/conversation.js';
import { findPersonaPreset, PERSONA_PRESETS, resolvePersona } from '../../src/prompt/personas.js';
import { cutAtStop, formatFor, transcriptFormat } from '../../src/prompt/promptFormat.js';

test('transcript: persona header, one line per speaker, ends with the assistant cue', () => {
  let c = emptyConversation('You are helpful.');
  c = addUser(c, 'Hello?');
  c = appendReply(c, 'Hi there.');
  c = addUser(c, 'How are you?\n');
  const prompt = transcriptFormat().render(c.persona, c.turns);
  assert.equal(prompt, 'You are helpful.\n\nUser: Hello?\nAssistant: Hi there.\nUser: How are you?\nAssistant:');
});

test('transcript: names are settings, and the stop follows the user name', () => {
  const format = transcriptFormat({ user: 'Ann', assistant: 'Bot' });
  const c = addUser(emptyConversation(), 'yo');
  assert.equal(format.render(null, c.turns), 'Ann: yo\nBot:');
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

test('transcript pieces join to the prompt: persona, one per turn, the cue', () => {
  const format = transcriptFormat();
  let c = emptyConversation('P');
  c = addUser(c, 'a');
  c = appendReply(c, 'b');
  c = addUser(c, 'c');
  const pieces = format.pieces(c.persona, c.turns);
  assert.equal(pieces.persona + pieces.turns.join('') + pieces.frame, format.render(c.persona, c.turns));
  assert.equal(format.prefixStable, true);
});

test('transcript of a model whose tokenizer adds a BOS starts with it once', () => {
  const format = formatFor({ hasChatTemplate: false, bosToken: '<s>' });
  assert.equal(format.render(null, [{ role: 'user', text: 'hi' }]), '<s>User: hi\nAssistant:');
  assert.equal(formatFor({ hasChatTemplate: false }).render(null, [{ role: 'user', text: 'hi' }]), 'User: hi\nAssistant:');
});

test('persona presets by name; other text is the persona itself', () => {
  assert.deepEqual(
    PERSONA_PRESETS.map((p) => p.name),
    ['translate', 'qa', 'summarise'],
  );
  assert.equal(findPersonaPreset('QA')?.name, 'qa');
  assert.equal(findPersonaPreset('summarize')?.name, 'summarise');
  assert.equal(resolvePersona('translate'), findPersonaPreset('translate')?.text(null));
  assert.equal(resolvePersona('You are a pirate.'), 'You are a pirate.');
  assert.equal(resolvePersona(''), null);
  assert.equal(resolvePersona(null), null);
});
