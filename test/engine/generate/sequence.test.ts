// One request's state, as both generation loops drive it: admission and limits, the ids
// that end a reply, stop texts, the held-back text and the done message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GenerateParams } from '../../../src/engine/protocol.js';
import {
  admit,
  doneMessage,
  endIds,
  fitReply,
  generationFailed,
  NO_STATS,
  replyTimings,
  seededPrompt,
  type Sequence,
  type SequenceModel,
} from '../../../src/engine/generate/sequence.js';

const PARAMS: GenerateParams = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, maxNewTokens: 8, seed: 1 };

/** A model of 5 tokens whose token i reads TEXT[i]; 4 is the end id, 3 a special <|end|>. */
const TEXT = ['a', 'b', '\n', '', ''];
function model(contextLength = 16): SequenceModel {
  return {
    info: { contextLength, eosTokenIds: [4] },
    tokenizer: {
      info: { bos: null, specialTokens: [{ content: '<|end|>', id: 3 }] },
      incremental: () => ({ push: (id: number) => TEXT[id] ?? '', finish: () => '' }),
    },
  };
}

/** Logits that make greedy sampling pick `token`. */
function pick(token: number): Float32Array {
  const logits = new Float32Array(5);
  logits[token] = 10;
  return logits;
}

function admitted(params: Partial<GenerateParams> = {}, prompt = [0, 1]): Sequence {
  const admission = admit(7, prompt, { ...PARAMS, ...params }, performance.now(), model());
  assert.ok('sequence' in admission, 'admitted');
  return admission.sequence;
}

test('an empty prompt starts from BOS, else from the first end id; a prompt is left as it is', () => {
  assert.deepEqual(seededPrompt([], 9, [4, 5]), [9]);
  assert.deepEqual(seededPrompt([], undefined, [4, 5]), [4]);
  assert.deepEqual(seededPrompt([], undefined, []), []);
  assert.deepEqual(seededPrompt([1, 2], 9, [4]), [1, 2]);
});

test('the reply budget: as asked, fitted to the room left with fitToContext, refused when it does not fit', () => {
  assert.deepEqual(fitReply(10, { ...PARAMS, maxNewTokens: 6 }, 16), { maxNewTokens: 6 });
  assert.deepEqual(fitReply(10, { ...PARAMS, maxNewTokens: 100, fitToContext: true }, 16), { maxNewTokens: 6 });
  const refused = fitReply(10, { ...PARAMS, maxNewTokens: 7 }, 16);
  assert.ok('error' in refused);
  assert.match(refused.error, /prompt of 10 tokens \+ 7 new tokens exceeds the model's context of 16 tokens/);
  // A prompt that fills the context leaves no room even when fitted.
  assert.ok('error' in fitReply(16, { ...PARAMS, fitToContext: true }, 16));
});

test('a request over the context is refused with its done message: over-limit, the prompt counted, nothing generated', () => {
  const admission = admit(3, [], { ...PARAMS, maxNewTokens: 16 }, 0, model(16));
  assert.ok('refused' in admission);
  assert.deepEqual(admission.refused, {
    type: 'done',
    id: 3,
    reason: 'error',
    promptTokens: 1,
    generatedTokens: 0,
    ttftMs: 0,
    tokensPerSecond: 0,
    text: '',
    error: "prompt of 1 tokens + 16 new tokens exceeds the model's context of 16 tokens",
    errorCode: 'over-limit',
  });
});

test("the end ids are the model's and those stops that are special tokens", () => {
  const specials = [
    { content: '<|im_end|>', id: 7 },
    { content: '<|x|>', id: 8 },
  ];
  assert.deepEqual([...endIds([1, 2], ['<|im_end|>', 'User:'], specials)].sort(), [1, 2, 7]);
  assert.deepEqual([...endIds([1], [], specials)], [1]);
});

test('a sampled end id ends the reply as eos; minNewTokens masks the end ids until enough tokens are out', () => {
  const s = admitted({ minNewTokens: 1 });
  assert.equal(s.sample(pick(4)), false, 'the end id is masked for the first token');
  assert.deepEqual(s.generated, [0]);
  assert.equal(s.sample(pick(4)), true, 'then it ends the reply');
  assert.deepEqual(s.generated, [0]);
  // A stop that is a special token ends by id too.
  assert.equal(admitted({ stop: ['<|end|>'] }).sample(pick(3)), true);
});

test('the reply is final at its budget; the token events concatenate to the done text', async () => {
  const s = admitted({ maxNewTokens: 2 });
  const texts: string[] = [];
  assert.equal(s.sample(pick(0)), false);
  assert.equal(s.final, false);
  texts.push(s.show(await s.decodeNext()).text);
  assert.equal(s.sample(pick(1)), false);
  assert.equal(s.final, true);
  texts.push(s.show(await s.decodeNext()).text);
  const messages = await s.finish('length');
  const done = messages.at(-1)!;
  assert.equal(done.type, 'done');
  if (done.type !== 'done') return;
  assert.equal(done.reason, 'length');
  assert.equal(done.generatedTokens, 2);
  assert.equal(done.promptTokens, 2);
  assert.equal(texts.join(''), 'ab');
  assert.equal(done.text, 'ab');
  assert.ok(done.ttftMs >= 0);
});

test('a stop text ends the reply and is never shown; held-back text that completes one at the end turns eos into stop', async () => {
  const s = admitted({ stop: ['\nb'] });
  s.sample(pick(0));
  assert.equal(s.show(await s.decodeNext()).text, 'a');
  s.sample(pick(2));
  assert.equal(s.show(await s.decodeNext()).text, '', 'a newline that may start the stop is held back');
  s.sample(pick(1));
  assert.equal(s.show(await s.decodeNext()).text, '');
  assert.equal(s.hitStop, true);
  const [done] = await s.finish('stop');
  assert.ok(done?.type === 'done' && done.reason === 'stop' && done.text === 'a');

  // Cancelled between sampling and sending: the last token's text still goes out, held text is released.
  const c = admitted({ stop: ['\nUser:'] });
  c.sample(pick(0));
  c.show(await c.decodeNext());
  c.sample(pick(2));
  const messages = await c.finish('cancelled');
  assert.deepEqual(
    messages.map((m) => (m.type === 'token' ? m.text : m.type)),
    ['\n', 'done'],
  );
  const last = messages.at(-1)!;
  assert.ok(last.type === 'done' && last.reason === 'cancelled' && last.text === 'a\n' && last.generatedTokens === 2);
});

test('the done message: reusedTokens only when a cache is kept, errors and their code only when set', () => {
  assert.deepEqual(doneMessage(1, 'cancelled', NO_STATS), {
    type: 'done',
    id: 1,
    reason: 'cancelled',
    promptTokens: 0,
    generatedTokens: 0,
    ttftMs: 0,
    tokensPerSecond: 0,
    text: '',
  });
  const withCache = doneMessage(2, 'error', { ...NO_STATS, reusedTokens: 0 }, 'no model is loaded');
  assert.equal(withCache.reusedTokens, 0);
  assert.equal(withCache.error, 'no model is loaded');
  assert.equal('errorCode' in withCache, false);
  assert.equal(generationFailed(new Error('boom\nstack')), 'generation failed: boom');
  assert.equal(generationFailed('plain'), 'generation failed: plain');
});

test('timings: the first token counts from arrival, the rate from the first token to the last', () => {
  assert.deepEqual(replyTimings(0, 100, 0, 0), { ttftMs: 0, tokensPerSecond: 0 });
  assert.deepEqual(replyTimings(1, 100, 150, 150), { ttftMs: 50, tokensPerSecond: 0 });
  assert.deepEqual(replyTimings(11, 100, 150, 1150), { ttftMs: 50, tokensPerSecond: 10 });
});

test('a sequence abandoned by a failed loop reports its counts and text, without timings', async () => {
  const s = admitted();
  s.reusedTokens = 1;
  s.sample(pick(0));
  s.show(await s.decodeNext());
  assert.deepEqual(s.abandoned('generation failed: gone'), {
    type: 'done',
    id: 7,
    reason: 'error',
    promptTokens: 2,
    generatedTokens: 1,
    ttftMs: 0,
    tokensPerSecond: 0,
    text: 'a',
    error: 'generation failed: gone',
  });
});
