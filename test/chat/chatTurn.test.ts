import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encode } from 'gpt-3-encoder';
import type { SamplingParams } from '../../src/engine/protocol.js';
import { chatTurn, type ChatTurnEvent, type ChatTurnInput, type ChatTurnResult } from '../../src/chat/chatTurn.js';
import { addUser } from '../../src/prompt/conversation.js';
import { transcriptFormat } from '../../src/prompt/promptFormat.js';
import { newSession } from '../../src/session/sessionStore.js';
import type { Session } from '../../src/session/types.js';
import { FakeEngine } from '../helpers/fakeEngine.js';

const params: SamplingParams = { temperature: 0.8, topK: 50, topP: 0.95, repetitionPenalty: 1.1, maxNewTokens: 64, seed: 1 };
const format = transcriptFormat();

function sessionAsking(text: string, persona: string | null = null): Session {
  const s = newSession('t', { persona });
  return { ...s, conversation: addUser(s.conversation, text) };
}

async function run(
  input: ChatTurnInput,
  onEvent?: (e: ChatTurnEvent) => void,
): Promise<{ deltas: string[]; events: ChatTurnEvent[]; result: ChatTurnResult }> {
  const deltas: string[] = [];
  const events: ChatTurnEvent[] = [];
  for await (const event of chatTurn(input)) {
    events.push(event);
    onEvent?.(event);
    if (event.type === 'delta') deltas.push(event.text);
  }
  const last = events.at(-1);
  assert.equal(last?.type, 'done', 'ends with done');
  assert.equal(events.filter((e) => e.type === 'done').length, 1, 'exactly one done');
  return { deltas, events, result: (last as Extract<ChatTurnEvent, { type: 'done' }>).result };
}

test('streams clean deltas; a stop marker split across tokens is never shown, not even in part', async () => {
  const engine = new FakeEngine({
    contextLength: 1024,
    scripts: [{ tokens: [' Hello', ' there', '.', '\n', 'Us', 'er', ':', ' more', ' text'] }],
  });
  const session = sessionAsking('Hi!', 'Be nice.');
  const { deltas, events, result } = await run({ engine, session, params, format });
  assert.equal(events[0]?.type, 'window');
  assert.equal(deltas.join(''), 'Hello there.');
  for (const d of deltas) assert.ok(!d.includes('\n') && !d.includes('Us'), `delta ${JSON.stringify(d)}`);
  assert.equal(result.reason, 'stop');
  assert.equal(result.interrupted, false);
  assert.equal(result.reply?.text, 'Hello there.');
  assert.equal(result.reply?.role, 'assistant');
  assert.deepEqual(
    result.reply?.meta && { model: result.reply.meta.model, reason: result.reply.meta.reason, interrupted: result.reply.meta.interrupted },
    {
      model: 'fake-gpt2',
      reason: 'stop',
      interrupted: false,
    },
  );
  assert.deepEqual(result.reply?.meta?.params, params);
  assert.equal(result.session.conversation.turns.length, 2);
  assert.equal(result.session.windowStart, session.conversation.turns[0]?.id);
  assert.equal(session.conversation.turns.length, 1, 'the input session is not mutated');
  // The engine got the window's prompt and the format's stop sequence.
  assert.equal(engine.calls[0]?.prompt, 'Be nice.\n\nUser: Hi!\nAssistant:');
  assert.deepEqual(engine.calls[0]?.params.stop, ['\nUser:']);
  assert.equal(engine.calls[0]?.params.maxNewTokens, 64);
});

test('a held-back tail that turns out not to be a marker is shown; deltas add up to the reply', async () => {
  const engine = new FakeEngine({ contextLength: 1024, scripts: [{ tokens: [' Line one', '\n', 'Use', ' it', ' well', '\n\n'] }] });
  const shown: string[] = [];
  const { deltas, result } = await run({ engine, session: sessionAsking('?'), params, format }, (e) => {
    if (e.type === 'delta') shown.push(e.text);
  });
  assert.equal(result.reason, 'eos');
  assert.equal(result.reply?.text, 'Line one\nUse it well');
  assert.equal(deltas.join(''), result.reply?.text);
  // While "\nUse" could still have become "\nUser:", it was not shown.
  assert.equal(shown[0], 'Line one');
});

test('<|endoftext|> ends the reply and never shows', async () => {
  const engine = new FakeEngine({ contextLength: 1024, scripts: [{ tokens: [' Done', '<|endo', 'ftext|>', 'junk'] }] });
  const { deltas, result } = await run({ engine, session: sessionAsking('?'), params, format });
  assert.equal(deltas.join(''), 'Done');
  assert.equal(result.reply?.text, 'Done');
});

test('cancel keeps the partial text, marked interrupted', async () => {
  const engine = new FakeEngine({
    contextLength: 1024,
    delayMs: 5,
    scripts: [{ tokens: [' one', ' two', ' three', ' four', ' five', ' six'] }],
  });
  const controller = new AbortController();
  let seen = 0;
  const { deltas, result } = await run({ engine, session: sessionAsking('count'), params, format, signal: controller.signal }, (e) => {
    if (e.type === 'delta' && ++seen === 2) controller.abort();
  });
  assert.equal(result.reason, 'cancelled');
  assert.equal(result.interrupted, true);
  assert.ok(result.reply !== null);
  assert.equal(result.reply.meta?.interrupted, true);
  assert.equal(result.reply.text, deltas.join(''));
  assert.ok(result.reply.text.startsWith('one two'));
  assert.ok(!result.reply.text.includes('six'));
});

test('cancel before any text: no reply turn, the question stays for /retry', async () => {
  const engine = new FakeEngine({ contextLength: 1024, delayMs: 20, scripts: [{ tokens: [' late'] }] });
  const controller = new AbortController();
  const session = sessionAsking('q');
  const pending = run({ engine, session, params, format, signal: controller.signal }, (e) => {
    // A timer, not a wait: the stop lands while the engine is 20 ms from its first token.
    if (e.type === 'window') setTimeout(() => controller.abort(), 1);
  });
  const { result } = await pending;
  assert.equal(result.reason, 'cancelled');
  assert.equal(result.reply, null);
  assert.deepEqual(result.session.conversation, session.conversation);
});

test('an engine error is reported, not thrown; the session keeps the unanswered question', async () => {
  const engine = new FakeEngine({ contextLength: 1024, scripts: [{ tokens: [], reason: 'error', error: 'worker crashed' }] });
  const session = sessionAsking('q');
  const { deltas, result } = await run({ engine, session, params, format });
  assert.deepEqual(deltas, []);
  assert.equal(result.reason, 'error');
  assert.equal(result.error, 'worker crashed');
  assert.equal(result.reply, null);
  assert.equal(result.session.conversation.turns.length, 1);
});

test('partial text before an error is kept, with the error reason', async () => {
  const engine = new FakeEngine({ contextLength: 1024, scripts: [{ tokens: [' Half'], reason: 'error', error: 'out of memory' }] });
  const { result } = await run({ engine, session: sessionAsking('q'), params, format });
  assert.equal(result.reason, 'error');
  assert.equal(result.error, 'out of memory');
  assert.equal(result.reply?.text, 'Half');
  assert.equal(result.reply?.meta?.reason, 'error');
});

test('maxNewTokens ≥ the context length: a clear error and no generation', async () => {
  const engine = new FakeEngine({ contextLength: 128 });
  const { result } = await run({ engine, session: sessionAsking('q'), params: { ...params, maxNewTokens: 128 }, format });
  assert.equal(result.reason, 'error');
  assert.match(result.error ?? '', /maxNewTokens \(128\) must be below the model's context length \(128\)/);
  assert.equal(engine.calls.length, 0);
});

test('no model loaded: a clear error', async () => {
  const { result } = await run({ engine: new FakeEngine(), session: sessionAsking('q'), params, format });
  assert.equal(result.reason, 'error');
  assert.match(result.error ?? '', /no model/);
});

test('leaving the loop early cancels the generation, and the engine is free for the next one', async () => {
  const engine = new FakeEngine({ contextLength: 1024, delayMs: 2, scripts: [{ tokens: Array(50).fill(' word') }, { tokens: [' next'] }] });
  for await (const event of chatTurn({ engine, session: sessionAsking('q'), params, format })) {
    if (event.type === 'delta') break;
  }
  const { result } = await run({ engine, session: sessionAsking('again'), params, format });
  assert.equal(result.reply?.text, 'next');
});

test('the window start is remembered in the session, so the next turn keeps the prefix', async () => {
  const engine = new FakeEngine({
    contextLength: 64,
    countTokens: (t) => Math.ceil(t.length / 4),
    fallback: { tokens: [' a reply of several words'] },
  });
  let session = sessionAsking('first question here');
  const starts: (string | null | undefined)[] = [];
  for (let i = 0; i < 12; i++) {
    const { result } = await run({ engine, session, params: { ...params, maxNewTokens: 16 }, format });
    assert.ok(result.window && result.window.promptTokens <= result.window.budget);
    starts.push(result.session.windowStart);
    session = { ...result.session, conversation: addUser(result.session.conversation, `question ${i} here`) };
  }
  // It slid at some point, and not on every turn.
  const changes = starts.filter((s, i) => i > 0 && s !== starts[i - 1]).length;
  assert.ok(changes >= 1 && changes < 11, `start changed ${changes} times`);
});

test('50 turns at 128 and 1024 positions never overflow (GPT-2 tokenizer, long and short replies)', async () => {
  for (const contextLength of [128, 1024]) {
    const replies = Array.from({ length: 50 }, (_, i) => ({
      tokens: Array(i % 7 === 0 ? 60 : 5)
        .fill(' word')
        .concat(['\nUser:']),
    }));
    const engine = new FakeEngine({ contextLength, countTokens: (t) => encode(t).length, scripts: replies });
    const maxNewTokens = contextLength === 128 ? 32 : 128;
    let session = newSession('long', { persona: 'The assistant is helpful.' });
    let dropped = 0;
    for (let i = 0; i < 50; i++) {
      session = { ...session, conversation: addUser(session.conversation, `message ${i}: ${'tell me more '.repeat(i % 5)}`) };
      const { result } = await run({ engine, session, params: { ...params, maxNewTokens }, format });
      assert.equal(result.error, undefined);
      const prompt = engine.calls.at(-1)!.prompt;
      assert.ok(
        encode(prompt).length + maxNewTokens <= contextLength,
        `turn ${i}: ${encode(prompt).length} + ${maxNewTokens} > ${contextLength}`,
      );
      assert.ok(prompt.startsWith('The assistant is helpful.'));
      dropped = result.window!.droppedCount;
      session = result.session;
    }
    assert.equal(session.conversation.turns.length, 100);
    assert.ok(dropped > 0, 'the window had to slide');
  }
});
