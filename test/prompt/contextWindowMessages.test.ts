// Property test of a window sent as messages (--endpoint): the window is still chosen by
// Parley from whole turns, but counted as the server counts its messages, through a chat
// template Parley does not render itself. Here "the server" renders Qwen2.5's published
// template and counts with GPT-2's BPE.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { encode } from 'gpt-3-encoder';
import { buildWindow, TRUNCATION_MARKER } from '../../src/prompt/contextWindow.js';
import { addUser, appendReply, emptyConversation } from '../../src/prompt/conversation.js';
import { transcriptFormat, type Message } from '../../src/prompt/promptFormat.js';
import { templateFormat } from '../../src/prompt/templateRenderer.js';
import { publishedTemplate } from '../helpers/fixtures.js';

const server = templateFormat({ template: publishedTemplate('Qwen-Qwen2.5-7B-Instruct'), bosToken: '', eosToken: '<|im_end|>' });
const serverCount = (messages: readonly Message[]): number => {
  const [first, ...rest] = messages;
  const persona = first?.role === 'system' ? first.text : null;
  return encode(server.render(persona, persona === null ? messages : rest)).length;
};

const words = fc
  .array(fc.constantFrom('hello', 'the', 'window', 'café', 'tokens', 'Über', '42', 'and', 'so', 'on'), { minLength: 0, maxLength: 60 })
  .map((w) => w.join(' '));

test('property: a window counted as messages is whole turns, ends with the newest message, and fits as the server counts it', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.option(words, { nil: null }),
      fc.array(fc.tuple(words, words), { maxLength: 12 }),
      words,
      fc.integer({ min: 120, max: 600 }),
      async (persona, exchanges, newest, contextLength) => {
        let c = emptyConversation(persona === '' ? null : persona);
        for (const [q, a] of exchanges) c = appendReply(addUser(c, q), a);
        c = addUser(c, newest);
        let counted = 0;
        const window = await buildWindow(c, {
          contextLength,
          maxNewTokens: 32,
          countTokens: async (texts) => texts.map((t) => encode(t).length),
          countWindow: async (_prompt, messages) => {
            counted++;
            return serverCount(messages);
          },
          format: transcriptFormat(),
        });
        assert.ok(counted > 0);
        assert.equal(window.promptTokens, serverCount(window.messages));
        assert.ok(window.promptTokens <= contextLength - 32, `${window.promptTokens} > ${contextLength - 32}`);
        const included = c.turns.filter((t) => window.includedTurnIds.includes(t.id));
        const turnsSent = window.messages.slice(window.persona === 'included' ? 1 : 0);
        assert.equal(turnsSent.length, included.length);
        if (window.persona === 'included') assert.deepEqual(window.messages[0], { role: 'system', text: c.persona });
        turnsSent.slice(0, -1).forEach((m, i) => assert.deepEqual(m, { role: included[i]!.role, text: included[i]!.text }));
        assert.equal(included[0]!.role, 'user');
        const last = turnsSent.at(-1)!;
        assert.equal(last.role, 'user');
        assert.ok(window.truncated ? last.text.startsWith(TRUNCATION_MARKER) : last.text === newest);
      },
    ),
    { numRuns: 150 },
  );
});
