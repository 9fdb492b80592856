import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeMarkdown, markdownInEffect } from '../../src/chat/markdownMode.js';

test('auto: Markdown for chat-template and server models, plain for GPT-2-format ones; the setting wins', () => {
  assert.equal(markdownInEffect(null, { hasChatTemplate: true }), true);
  assert.equal(markdownInEffect(null, { hasChatTemplate: false }), false);
  assert.equal(markdownInEffect(null, { hasChatTemplate: false, endpoint: { url: 'http://x' } }), true);
  assert.equal(markdownInEffect(null, null), false);
  assert.equal(markdownInEffect(true, { hasChatTemplate: false }), true);
  assert.equal(markdownInEffect(false, { hasChatTemplate: true }), false);
  assert.equal(describeMarkdown(null, false), 'Markdown replies are off (auto: the model writes plain text)');
  assert.equal(describeMarkdown(true, true), 'Markdown replies are on');
});
