import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encode } from 'gpt-3-encoder';
import { buildWindow, ContextWindowError, TRUNCATION_MARKER, type ContextWindow } from '../../src/prompt/contextWindow.js';
import { addUser, appendReply, emptyConversation } from '../../src/prompt/conversation.js';
import { transcriptFormat } from '../../src/prompt/promptFormat.js';
import { TokenCountCache, type CountTokens } from '../../src/prompt/tokenCountCache.js';
import type { Conversation } from '../../src/prompt/conversationTypes.js';

const gpt2: CountTokens = async (texts) => texts.map((t) => encode(t).length);
const format = transcriptFormat();

function conversation(persona: string | null, exchanges: number, words = 8): Conversation {
  let c = emptyConversation(persona);
  for (let i = 0; i < exchanges; i++) {
    c = addUser(c, `question ${i}: ${'word '.repeat(words).trim()}?`, { id: `u${i}` });
    c = appendReply(c, `answer ${i}: ${'reply '.repeat(words).trim()}.`, undefined, { id: `a${i}` });
  }
  return c;
}

const ask = (c: Conversation, text: string, id?: string): Conversation => addUser(c, text, id === undefined ? {} : { id });

function assertWellFormed(c: Conversation, w: ContextWindow): void {
  assert.ok(w.promptTokens <= w.budget, `prompt ${w.promptTokens} > budget ${w.budget}`);
  assert.equal(w.promptTokens, encode(w.prompt).length);
  const ids = c.turns.map((t) => t.id);
  assert.deepEqual([...w.droppedTurnIds, ...w.includedTurnIds], ids, 'dropped + included = all, in order');
  assert.equal(w.includedTurnIds.at(-1), ids.at(-1), 'the newest user message is in');
  const first = c.turns.findIndex((t) => t.id === w.start);
  assert.ok(first === 0 || c.turns[first]?.role === 'user', 'the window starts at an exchange boundary');
  assert.equal(w.droppedCount, first);
}

test('budget is contextLength − maxNewTokens; maxNewTokens ≥ contextLength is a clear error', async () => {
  const c = ask(emptyConversation(), 'hi');
  const w = await buildWindow(c, { contextLength: 1024, maxNewTokens: 128, countTokens: gpt2, format });
  assert.equal(w.budget, 896);
  for (const maxNewTokens of [1024, 2000]) {
    await assert.rejects(
      buildWindow(c, { contextLength: 1024, maxNewTokens, countTokens: gpt2, format }),
      (e: unknown) =>
        e instanceof ContextWindowError && e.code === 'max-new-tokens' && /below the model's context length \(1024\)/.test(e.message),
    );
  }
});

test('a conversation must end with the user message to answer', async () => {
  await assert.rejects(
    buildWindow(conversation(null, 1), { contextLength: 1024, maxNewTokens: 128, countTokens: gpt2, format }),
    (e: unknown) => e instanceof ContextWindowError && e.code === 'no-user-message',
  );
});

test('everything fits: the whole conversation, persona first, nothing dropped', async () => {
  const c = ask(conversation('Be brief.', 3), 'last?', 'u3');
  const w = await buildWindow(c, { contextLength: 1024, maxNewTokens: 128, countTokens: gpt2, format });
  assertWellFormed(c, w);
  assert.equal(w.droppedCount, 0);
  assert.equal(w.persona, 'included');
  assert.equal(w.truncated, false);
  assert.equal(w.slid, false);
  assert.ok(w.prompt.startsWith('Be brief.\n\nUser: question 0'));
  assert.ok(w.prompt.endsWith('User: last?\nAssistant:'));
});

test('over budget: drops whole exchanges, oldest first, down to about 60 % of the budget', async () => {
  const c = ask(conversation('Be brief.', 30), 'and now?', 'new');
  const w = await buildWindow(c, { contextLength: 256, maxNewTokens: 56, countTokens: gpt2, format });
  assertWellFormed(c, w);
  assert.ok(w.droppedCount > 0);
  assert.equal(w.droppedCount % 2, 0, 'whole exchanges');
  assert.ok(w.promptTokens <= 0.6 * w.budget, `${w.promptTokens} > 60 % of ${w.budget}`);
  assert.equal(w.persona, 'included');
  assert.ok(w.slid);
});

test('after a slide the start stays put while it fits, then slides again in one step', async () => {
  let c = conversation('Be brief.', 20);
  let start: string | null = null;
  const starts: string[] = [];
  let slides = 0;
  for (let i = 0; i < 40; i++) {
    c = ask(c, `follow-up ${i} with some words in it`, `f${i}`);
    const w = await buildWindow(c, { contextLength: 200, maxNewTokens: 40, countTokens: gpt2, format, start });
    assertWellFormed(c, w);
    if (w.slid) {
      slides++;
      assert.ok(w.promptTokens <= 0.6 * w.budget);
    } else if (start !== null) {
      assert.equal(w.start, start, 'no slide: same start, same prompt prefix');
    }
    starts.push(w.start);
    start = w.start;
    c = appendReply(c, `reply ${i} also with a few words`, undefined, { id: `r${i}` });
  }
  // 40 exchanges of ~20 tokens in a 160-token budget: a handful of slides, not one per turn.
  assert.ok(slides >= 3 && slides <= 12, `slides: ${slides}`);
  assert.ok(new Set(starts).size === slides + 1 || new Set(starts).size === slides);
});

test('the exchange right before the new message stays when it fits, even past the slide target', async () => {
  let c = emptyConversation();
  c = addUser(c, 'old', { id: 'u0' });
  c = appendReply(c, 'old reply '.repeat(30), undefined, { id: 'a0' });
  c = addUser(c, 'tell me a story', { id: 'u1' });
  c = appendReply(c, 'once upon a time '.repeat(33), undefined, { id: 'a1' });
  c = addUser(c, 'and then?', { id: 'u2' });
  const w = await buildWindow(c, { contextLength: 256, maxNewTokens: 56, countTokens: gpt2, format });
  assertWellFormed(c, w);
  assert.deepEqual(w.includedTurnIds, ['u1', 'a1', 'u2']);
  assert.ok(w.promptTokens > 0.6 * w.budget, 'this case is past the slide target');
});

test('a message too long on its own is cut from its start behind a marker, keeping its end', async () => {
  const long = Array.from({ length: 400 }, (_, i) => `w${i}`).join(' ') + ' THE END';
  const c = ask(conversation('Be brief.', 2), long, 'long');
  const w = await buildWindow(c, { contextLength: 128, maxNewTokens: 28, countTokens: gpt2, format });
  assertWellFormed(c, w);
  assert.ok(w.truncated);
  assert.equal(w.persona, 'included');
  assert.deepEqual(w.includedTurnIds, ['long']);
  assert.ok(w.prompt.includes(`User: ${TRUNCATION_MARKER}`));
  assert.ok(w.prompt.endsWith('THE END\nAssistant:'));
  // Cut as little as possible: one more word would not fit.
  assert.ok(w.promptTokens >= w.budget - 4, `${w.promptTokens} of ${w.budget}`);
});

test('emoji are never cut in half', async () => {
  const c = ask(emptyConversation(), '😀👍🏽🇳🇱'.repeat(200));
  const w = await buildWindow(c, { contextLength: 64, maxNewTokens: 16, countTokens: gpt2, format });
  assertWellFormed(c, w);
  assert.ok(w.truncated);
  assert.ok(!/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(w.prompt), 'no lone surrogate');
});

test('a persona too long for the window is dropped and reported; a fitting one stays beside a cut message', async () => {
  const hugePersona = 'You are a very detailed persona. '.repeat(40);
  const c = ask(emptyConversation(hugePersona), 'hi');
  const w = await buildWindow(c, { contextLength: 128, maxNewTokens: 28, countTokens: gpt2, format });
  assertWellFormed(c, w);
  assert.equal(w.persona, 'dropped');
  assert.ok(!w.prompt.includes('persona'));

  const c2 = ask(emptyConversation('Answer in French.'), 'long question '.repeat(200));
  const w2 = await buildWindow(c2, { contextLength: 128, maxNewTokens: 28, countTokens: gpt2, format });
  assertWellFormed(c2, w2);
  assert.equal(w2.persona, 'included');
  assert.ok(w2.truncated);
});

test('a budget too small for even the frame is a clear error, not an oversized prompt', async () => {
  const c = ask(emptyConversation(), 'hello there');
  await assert.rejects(
    buildWindow(c, { contextLength: 64, maxNewTokens: 62, countTokens: gpt2, format }),
    (e: unknown) => e instanceof ContextWindowError && e.code === 'too-small' && /lower maxNewTokens/.test(e.message),
  );
});

test('the real count of the assembled prompt is the judge, even when parts add up to less', async () => {
  // A tokenizer for which every turn boundary costs 3 extra tokens that no part shows.
  const joins: CountTokens = async (texts) =>
    texts.map((t) => Math.ceil(t.length / 4) + 3 * (t.slice(1).match(/\n(User|Assistant):/g)?.length ?? 0));
  for (const contextLength of [64, 100, 256]) {
    const c = ask(conversation('P.', 12), 'final question');
    const w = await buildWindow(c, { contextLength, maxNewTokens: 16, countTokens: joins, format });
    assert.ok(w.promptTokens <= w.budget);
    assert.equal(w.promptTokens, (await joins([w.prompt]))[0]);
  }
});

test('with the cache, earlier turns are tokenized once, not on every message', async () => {
  let counted: string[] = [];
  const spy: CountTokens = async (texts) => {
    counted = counted.concat(texts);
    return gpt2(texts);
  };
  const cache = new TokenCountCache();
  const countTokens = cache.counter('gpt2', spy);
  let c = ask(conversation('Be brief.', 5), 'first');
  await buildWindow(c, { contextLength: 1024, maxNewTokens: 128, countTokens, format });
  c = appendReply(c, 'reply');
  c = ask(c, 'second');
  counted = [];
  await buildWindow(c, { contextLength: 1024, maxNewTokens: 128, countTokens, format });
  // New: the reply, the new message, and the assembled prompt. Persona, cue and old turns are cached.
  assert.deepEqual(counted.slice(0, 2), ['Assistant: reply\n', 'User: second\n']);
  assert.equal(counted.length, 3);
  // Another model's tokenizer does not share counts.
  counted = [];
  await buildWindow(c, { contextLength: 1024, maxNewTokens: 128, countTokens: cache.counter('other', spy), format });
  assert.ok(counted.length > 10);
});

test('token count cache: one batched call for the misses, duplicates counted once, bounded by size', async () => {
  const calls: string[][] = [];
  const count: CountTokens = async (texts) => {
    calls.push(texts);
    return texts.map((t) => t.length);
  };
  const cache = new TokenCountCache(40);
  const counter = cache.counter('m', count);
  assert.deepEqual(await counter(['aa', 'bbb', 'aa']), [2, 3, 2]);
  assert.deepEqual(calls, [['aa', 'bbb']]);
  assert.deepEqual(await counter(['bbb', 'cccc']), [3, 4]);
  assert.deepEqual(calls[1], ['cccc']);
  // Least recently used entries go once the cached text exceeds the bound.
  await counter(['x'.repeat(30)]);
  calls.length = 0;
  await counter(['aa']);
  assert.deepEqual(calls, [['aa']], 'evicted');
  await assert.rejects(cache.counter('m', async () => [1])(['p', 'q']), /returned 1 counts for 2 texts/);
});

// GPT-2's longest token is 128 bytes: no text longer than budget × 128 can fit.
const GPT2_MAX_TOKEN_BYTES = 128;

/** The gpt2 counter, recording how many characters it was asked to tokenize. */
function recordingGpt2(): { count: CountTokens; chars: () => number } {
  let chars = 0;
  return {
    count: async (texts) => {
      chars += texts.reduce((n, t) => n + t.length, 0);
      return gpt2(texts);
    },
    chars: () => chars,
  };
}

test('what cannot fit is not tokenized: a huge newest message is cut after counting only what could fit', async () => {
  const huge = 'lorem ipsum dolor sit amet '.repeat(40_000); // 1.08 M characters
  const c = ask(conversation(null, 2), huge);
  const counter = recordingGpt2();
  const options = { contextLength: 256, maxNewTokens: 32, countTokens: counter.count, format, maxTokenBytes: GPT2_MAX_TOKEN_BYTES };
  const w = await buildWindow(c, options);
  assert.equal(w.truncated, true);
  assertWellFormed(c, w);
  assert.ok(w.promptTokens > w.budget - 8, `the cut keeps what fits: ${w.promptTokens} of ${w.budget}`);
  // Each probe of the cut is at most about 2 × budget × 128 characters, and there are ~20.
  assert.ok(counter.chars() < 40 * w.budget * GPT2_MAX_TOKEN_BYTES, `tokenized ${counter.chars()} characters`);
  assert.ok(counter.chars() < huge.length, `tokenized ${counter.chars()} characters of ${huge.length}`);
});

test('a persona that cannot fit is dropped without being tokenized', async () => {
  const persona = 'be brief and kind '.repeat(20_000); // 360 k characters
  const c = ask(conversation(persona, 1), 'hello?');
  const counter = recordingGpt2();
  const w = await buildWindow(c, {
    contextLength: 256,
    maxNewTokens: 32,
    countTokens: counter.count,
    format,
    maxTokenBytes: GPT2_MAX_TOKEN_BYTES,
  });
  assert.equal(w.persona, 'dropped');
  assertWellFormed(c, w);
  assert.ok(counter.chars() < 10_000, `tokenized ${counter.chars()} characters`);
});

test('of thousands of earlier turns only those that could fit are counted, and the window is the same', async () => {
  const c = ask(conversation(null, 3_000, 30), 'and now?');
  const bounded = recordingGpt2();
  const options = { contextLength: 512, maxNewTokens: 64, format };
  const w = await buildWindow(c, { ...options, countTokens: bounded.count, maxTokenBytes: GPT2_MAX_TOKEN_BYTES });
  const whole = await buildWindow(c, { ...options, countTokens: gpt2 });
  assert.deepEqual(w, whole);
  assertWellFormed(c, w);
  assert.ok(bounded.chars() < 4 * w.budget * GPT2_MAX_TOKEN_BYTES, `tokenized ${bounded.chars()} characters`);
});

test('the token-count cache is bounded by entries as well as characters', async () => {
  const cache = new TokenCountCache(1_000_000, 100);
  const count = cache.counter('m', gpt2);
  await count(Array.from({ length: 500 }, (_, i) => `turn ${i}`));
  assert.equal(cache.size, 100);
});
