// --endpoint sends a chat turn as messages: a small Fastify server stands in for vLLM (its
// /tokenize counts messages through "its template") or for llama.cpp's server (/tokenize
// takes only {content}), and records every request, so the test sees what went over the
// wire: the roles and texts of the window Parley chose, on /v1/chat/completions, never
// /v1/completions; and how the window was counted.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import type { SamplingParams } from '../../../src/engine/protocol.js';
import { RemoteEngineClient } from '../../../src/engine/remote/remoteEngineClient.js';
import { TEMPLATE_MARGIN } from '../../../src/engine/remote/serverExtras.js';
import { chatTurn, type ChatTurnResult } from '../../../src/chat/chatTurn.js';
import { addUser, appendReply, setPersona } from '../../../src/prompt/conversation.js';
import { formatFor } from '../../../src/prompt/promptFormat.js';
import { newSession } from '../../../src/session/sessionStore.js';
import type { Session } from '../../../src/session/types.js';
import { endpointContextLine } from '../../../src/chat/commands/context.js';
import { startStub, templateCount, words, type Stub } from '../../helpers/chatServerStub.js';

const params: SamplingParams = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, maxNewTokens: 32, seed: null };

async function turn(engine: RemoteEngineClient, session: Session): Promise<ChatTurnResult> {
  const format = formatFor(engine.model!);
  let result: ChatTurnResult | null = null;
  for await (const event of chatTurn({ engine, session, params, format })) if (event.type === 'done') result = event.result;
  assert.ok(result);
  return result;
}

function conversation(exchanges: number, wordsEach: number): Session {
  let session = newSession('stub');
  let c = setPersona(session.conversation, 'You are terse.');
  for (let i = 0; i < exchanges; i++) {
    c = addUser(c, `question ${i} ` + 'word '.repeat(wordsEach));
    c = appendReply(c, `answer ${i} ` + 'word '.repeat(wordsEach));
  }
  c = addUser(c, 'And now?');
  session = { ...session, conversation: c };
  return session;
}

let vllm: Stub;
let llamacpp: Stub;

before(async () => {
  vllm = await startStub('vllm', 4096);
  llamacpp = await startStub('llamacpp', 4096);
});

after(async () => {
  await vllm?.app.close();
  await llamacpp?.app.close();
});

test('a chat turn goes to /v1/chat/completions as messages: the persona as system, the window turns with their roles, streamed', async () => {
  vllm.posted.length = 0;
  const engine = new RemoteEngineClient({ url: vllm.url, apiKey: null });
  const info = await engine.load('stub-instruct', { dtype: 'fp32', offline: false });
  assert.equal(info.endpoint?.windowCounts, 'messages');
  const session = conversation(2, 3);
  const result = await turn(engine, session);
  assert.equal(result.reason, 'eos');
  assert.equal(result.reply?.text, 'Hello from the stub');

  const chats = vllm.posted.filter((p) => p.route === '/v1/chat/completions');
  assert.equal(chats.length, 1);
  assert.equal(vllm.posted.filter((p) => p.route === '/v1/completions').length, 0, 'no raw completion for a chat turn');
  const body = chats[0]!.body;
  const turns = session.conversation.turns;
  assert.deepEqual(body['messages'], [
    { role: 'system', content: 'You are terse.' },
    ...turns.map((t) => ({ role: t.role, content: t.text })),
  ]);
  assert.equal(body['model'], 'stub-instruct');
  assert.equal(body['stream'], true);
  assert.deepEqual(body['stream_options'], { include_usage: true });
  assert.equal(body['max_tokens'], 32);
  assert.equal(body['temperature'], 0);
  assert.deepEqual(body['stop'], ['\nUser:']);
  assert.equal(body['prompt'], undefined);
  // The server counted the window's messages (its template), and the reply's usage is the server's.
  assert.equal(result.window?.promptTokens, templateCount(body['messages'] as { content: string }[]));
  assert.equal(result.reply?.meta?.promptTokens, 42);
  assert.ok(vllm.posted.some((p) => p.route === '/tokenize' && Array.isArray(p.body['messages'])));

  // A raw prompt (no messages) is still a raw continuation.
  vllm.posted.length = 0;
  let raw = '';
  for await (const e of engine.generate('Once upon a time', { ...params, maxNewTokens: 1 })) if (e.type === 'done') raw = e.text;
  assert.equal(raw, ' raw');
  assert.deepEqual(
    vllm.posted.map((p) => p.route),
    ['/v1/completions'],
  );
});

test("the window is still Parley's: whole turns within the context, counted by the server through its template", async () => {
  const small = await startStub('vllm', 160);
  try {
    const engine = new RemoteEngineClient({ url: small.url, apiKey: null });
    await engine.load('stub-instruct', { dtype: 'fp32', offline: false });
    const session = conversation(8, 6);
    const result = await turn(engine, session);
    const window = result.window!;
    assert.ok(window.droppedCount > 0, 'earlier turns fell out');
    assert.ok(window.promptTokens <= 160 - 32);
    const sent = small.posted.find((p) => p.route === '/v1/chat/completions')!.body['messages'] as { role: string; content: string }[];
    const turns = session.conversation.turns;
    const included = turns.filter((t) => window.includedTurnIds.includes(t.id));
    assert.deepEqual(sent, [{ role: 'system', content: 'You are terse.' }, ...included.map((t) => ({ role: t.role, content: t.text }))]);
    // Whole exchanges: the window starts with a user turn and ends with the newest message.
    assert.equal(included[0]!.role, 'user');
    assert.equal(sent.at(-1)!.content, 'And now?');
    assert.equal(window.promptTokens, templateCount(sent));
  } finally {
    await small.app.close();
  }
});

test("a server that cannot count messages (llama.cpp's /tokenize): the rendered window plus a margin, and /context says so", async () => {
  llamacpp.posted.length = 0;
  const engine = new RemoteEngineClient({ url: llamacpp.url, apiKey: null });
  const info = await engine.load('stub-instruct', { dtype: 'fp32', offline: false });
  assert.equal(info.endpoint?.tokenCounts, 'server');
  assert.equal(info.endpoint?.windowCounts, 'rendered');
  const session = conversation(1, 2);
  const result = await turn(engine, session);
  const window = result.window!;
  const messages = window.messages.length;
  assert.equal(messages, 4);
  assert.equal(window.promptTokens, words(window.prompt) + TEMPLATE_MARGIN.fixed + TEMPLATE_MARGIN.perMessage * messages);
  const chat = llamacpp.posted.find((p) => p.route === '/v1/chat/completions')!;
  assert.equal((chat.body['messages'] as unknown[]).length, 4);
  assert.match(
    endpointContextLine(info.endpoint!),
    /on Parley's transcript of the window, plus 48 tokens and 6 per message for the server's chat template/,
  );
  assert.match(
    endpointContextLine({ ...info.endpoint!, windowCounts: 'messages' }),
    /of the window's messages through its own chat template/,
  );
  assert.match(endpointContextLine({ ...info.endpoint!, tokenCounts: 'estimate' }), /^Token counts: estimated .*plus 48 tokens/);
});

test("a base model the server has no chat template for: the chat turn falls back to Parley's transcript as a raw prompt", async () => {
  const base = await startStub('vllm', 4096, true);
  try {
    const engine = new RemoteEngineClient({ url: base.url, apiKey: null });
    const info = await engine.load('stub-instruct', { dtype: 'fp32', offline: false });
    assert.equal(info.endpoint?.windowCounts, 'rendered');
    const session = conversation(1, 2);
    const first = await turn(engine, session);
    assert.equal(first.reason, 'length');
    assert.equal(first.reply?.text, 'raw');
    const raw = base.posted.filter((p) => p.route === '/v1/completions');
    assert.equal(raw.length, 1);
    assert.equal(raw[0]!.body['prompt'], first.window!.prompt);
    assert.match(first.window!.prompt, /^You are terse\.\n\nUser: question 0/);
    // Once refused, chats go straight to /v1/completions.
    base.posted.length = 0;
    await turn(engine, session);
    assert.deepEqual(
      base.posted.filter((p) => p.route.startsWith('/v1/')).map((p) => p.route),
      ['/v1/completions'],
    );
  } finally {
    await base.app.close();
  }
});

test('stops are cut on this side too: a chat reply that runs into the next turn ends there', async () => {
  const chatty = await startStub('vllm', 4096, false, ['Sure', '.', '\nUser', ': and', ' more']);
  try {
    const engine = new RemoteEngineClient({ url: chatty.url, apiKey: null });
    await engine.load('stub-instruct', { dtype: 'fp32', offline: false });
    const result = await turn(engine, conversation(0, 0));
    assert.equal(result.reason, 'stop');
    assert.equal(result.reply?.text, 'Sure.');
  } finally {
    await chatty.app.close();
  }
});
