// `parley serve` against the official `openai` client, on a generated GPT-2.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import OpenAI from 'openai';
import { AutoTokenizer } from '@huggingface/transformers';
import { REPO_ROOT, tinyModelDir } from '../helpers/fixtures.js';
import { startServe, type ServeProcess } from '../helpers/serveProcess.js';
import { waitFor } from '../helpers/waitFor.js';

const KEY = 'test-key-123';
let serve: ServeProcess;
let client: OpenAI;
let modelDir: string;
let root: string;

const greedy = { temperature: 0, max_tokens: 16 } as const;

before(async () => {
  modelDir = await tinyModelDir();
  serve = await startServe(['--model', modelDir, '--offline', '--api-key', KEY, '--parallel', '4'], {
    PARLEY_CONFIG_DIR: '/nonexistent-parley-config',
  });
  client = new OpenAI({ baseURL: serve.baseURL, apiKey: KEY, maxRetries: 0 });
  root = serve.baseURL.replace(/\/v1$/, '');
});

after(async () => {
  await serve?.stop();
});

const chat = (content: string, extra: Partial<OpenAI.Chat.ChatCompletionCreateParamsNonStreaming> = {}) =>
  client.chat.completions.create({ model: modelDir, messages: [{ role: 'user', content }], ...greedy, ...extra });

async function streamText(
  content: string,
  maxTokens = 16,
): Promise<{ text: string; finish: string | null; usage: OpenAI.CompletionUsage | null | undefined }> {
  const stream = await client.chat.completions.create({
    model: modelDir,
    messages: [{ role: 'user', content }],
    temperature: 0,
    max_tokens: maxTokens,
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  let finish: string | null = null;
  let usage: OpenAI.CompletionUsage | null | undefined;
  for await (const chunk of stream) {
    const choice = chunk.choices[0];
    if (choice?.delta.content) text += choice.delta.content;
    if (choice?.finish_reason) finish = choice.finish_reason;
    if (chunk.usage) usage = chunk.usage;
  }
  return { text, finish, usage };
}

async function raw(
  path: string,
  init: RequestInit & { key?: string | null } = {},
): Promise<{
  status: number;
  body: { error?: { message: string; type: string; param: string | null; code: string | null } } & Record<string, unknown>;
  headers: Headers;
}> {
  const { key = KEY, ...rest } = init;
  const headers = new Headers(rest.headers);
  if (key !== null) headers.set('authorization', `Bearer ${key}`);
  if (rest.body !== undefined && !headers.has('content-type')) headers.set('content-type', 'application/json');
  const res = await fetch(root + path, { ...rest, headers });
  const text = await res.text();
  let body: object;
  try {
    body = JSON.parse(text) as object;
  } catch {
    body = { text };
  }
  return { status: res.status, body: body as never, headers: res.headers };
}

test('GET /v1/models lists the model with max_model_len; /health answers', async () => {
  const list = await raw('/v1/models');
  assert.equal(list.status, 200);
  const data = list.body['data'] as { id: string; max_model_len: number }[];
  assert.equal(data[0]?.id, 'tiny-random');
  assert.equal(data[0]?.max_model_len, 1024);
  const models = await client.models.list();
  assert.equal(models.data[0]?.id, 'tiny-random');
  const health = await raw('/health', { key: null });
  assert.equal(health.status, 200);
});

test('a non-streamed chat reply carries usage equal to the tokenizer counts, and finish_reason', async () => {
  const reply = await chat('Hello there', { max_tokens: 12 });
  const content = reply.choices[0]!.message.content!;
  assert.ok(content.length > 0);
  assert.equal(content, content.trim());
  assert.equal(reply.choices[0]!.finish_reason, 'length');
  const tokenizer = await AutoTokenizer.from_pretrained(modelDir);
  // The transcript format, as the terminal chat builds it.
  const prompt = 'User: Hello there\nAssistant:';
  assert.equal(reply.usage!.prompt_tokens, tokenizer.encode(prompt).length);
  assert.equal(reply.usage!.completion_tokens, 12);
  assert.equal(reply.usage!.total_tokens, reply.usage!.prompt_tokens + 12);
  const counted = await raw('/tokenize', { method: 'POST', body: JSON.stringify({ model: modelDir, prompt }) });
  assert.equal(counted.body['count'], tokenizer.encode(prompt).length);
  assert.deepEqual(counted.body['tokens'], tokenizer.encode(prompt));

  const text = await client.completions.create({ model: modelDir, prompt: 'Once upon a time', max_tokens: 5, temperature: 0 });
  assert.equal(text.usage!.prompt_tokens, tokenizer.encode('Once upon a time').length);
  assert.equal(text.usage!.completion_tokens, 5);
  assert.equal(text.choices[0]!.finish_reason, 'length');
});

test('a streamed reply is the non-streamed one, ends with a usage chunk and [DONE]', async () => {
  const whole = await chat('Tell me a story', { max_tokens: 16 });
  const streamed = await streamText('Tell me a story', 16);
  assert.equal(streamed.text, whole.choices[0]!.message.content);
  assert.equal(streamed.finish, 'length');
  // The same counts; how much of the prompt the cache served may differ between the two.
  assert.equal(streamed.usage?.prompt_tokens, whole.usage!.prompt_tokens);
  assert.equal(streamed.usage?.completion_tokens, whole.usage!.completion_tokens);
  const res = await fetch(`${root}/v1/completions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ model: modelDir, prompt: 'abc', max_tokens: 3, stream: true }),
  });
  assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  const body = await res.text();
  assert.ok(body.trimEnd().endsWith('data: [DONE]'), body);
});

test('stop sequences end the reply without showing them', async () => {
  const full = await client.completions.create({ model: modelDir, prompt: 'The weather', max_tokens: 30, temperature: 0 });
  const text = full.choices[0]!.text;
  const stop = text.slice(10, 13);
  const cut = await client.completions.create({ model: modelDir, prompt: 'The weather', max_tokens: 30, temperature: 0, stop: [stop] });
  assert.equal(cut.choices[0]!.text, text.slice(0, text.indexOf(stop)));
  assert.equal(cut.choices[0]!.finish_reason, 'stop');
});

test('an aborted stream cancels its generation, and the next request is served at once', async () => {
  const controller = new AbortController();
  const stream = await client.chat.completions.create(
    { model: modelDir, messages: [{ role: 'user', content: 'Go on and on' }], temperature: 0, max_tokens: 900, stream: true },
    { signal: controller.signal },
  );
  let chunks = 0;
  try {
    for await (const _chunk of stream) if (++chunks === 3) controller.abort();
  } catch {
    // The client reports its own abort, or ends the stream quietly.
  }
  // A tiny model's chunks can arrive many to a read, and the client hands out what it already
  // holds: what shows the cancel is a count far short of 900 and the slot freed below.
  assert.ok(chunks >= 3 && chunks < 200, `${chunks} chunks`);
  // The slot is free again once the engine has stopped: within a token, not 900.
  await waitFor(async () => (await raw('/health', { key: null })).body['running'] === 0, {
    timeoutMs: 10_000,
    intervalMs: 20,
    what: 'the aborted generation to stop',
  });
  const next = await chat('Next please', { max_tokens: 4 });
  assert.equal(next.usage!.completion_tokens, 4);
  const line = serve
    .stderr()
    .split('\n')
    .find((l) => l.includes('(client gone)'));
  assert.ok(line, serve.stderr());
  const tokens = Number(/ (\d+) tokens/.exec(line)![1]);
  assert.ok(tokens < 900, line);
});

test('8 concurrent streaming clients each get exactly the reply they get alone', async () => {
  const prompts = Array.from({ length: 8 }, (_, i) => `Client number ${i} says hello to the server`);
  const alone: string[] = [];
  for (const p of prompts) alone.push((await streamText(p, 20)).text);
  const together = await Promise.all(prompts.map((p) => streamText(p, 20)));
  together.forEach((r, i) => {
    assert.equal(r.finish, 'length', `client ${i} completed`);
    assert.equal(r.usage?.completion_tokens, 20);
    assert.equal(r.text, alone[i], `client ${i}`);
  });
});

test('bad input gets the right status in OpenAI error shape, and the server keeps serving', async () => {
  const post = (body: string | Uint8Array, path = '/v1/chat/completions', key: string | null = KEY) =>
    raw(path, { method: 'POST', body: body as string, key });
  const valid = { model: modelDir, messages: [{ role: 'user', content: 'hi' }], max_tokens: 2 };
  const cases: [string, Promise<Awaited<ReturnType<typeof raw>>>, number, string | null][] = [
    ['malformed JSON', post('{"model": '), 400, null],
    ['wrong type', post(JSON.stringify({ ...valid, temperature: 'hot' })), 400, 'temperature'],
    ['temperature out of range', post(JSON.stringify({ ...valid, temperature: 5 })), 400, 'temperature'],
    ['messages not a list', post(JSON.stringify({ ...valid, messages: 'hi' })), 400, 'messages'],
    ['unknown role', post(JSON.stringify({ ...valid, messages: [{ role: 'wizard', content: 'x' }] })), 400, 'messages[0].role'],
    ['unsupported field', post(JSON.stringify({ ...valid, tools: [] })), 400, 'tools'],
    ['n of 2', post(JSON.stringify({ ...valid, n: 2 })), 400, 'n'],
    ['max_tokens 1e9', post(JSON.stringify({ ...valid, max_tokens: 1e9 })), 400, 'messages'],
    ['stream_options without stream', post(JSON.stringify({ ...valid, stream_options: { include_usage: true } })), 400, 'stream_options'],
    ['several prompts', post(JSON.stringify({ model: modelDir, prompt: ['a', 'b'] }), '/v1/completions'), 400, 'prompt'],
    ['token-id prompt', post(JSON.stringify({ model: modelDir, prompt: [1, 2] }), '/v1/completions'), 400, 'prompt'],
    ['unknown model', post(JSON.stringify({ ...valid, model: 'gpt-9' })), 404, 'model'],
    ['no key', post(JSON.stringify(valid), '/v1/chat/completions', null), 401, null],
    ['wrong key', post(JSON.stringify(valid), '/v1/chat/completions', 'nope'), 401, null],
    ['unknown route', raw('/v1/embeddings', { method: 'POST', body: '{}' }), 404, null],
    ['10 MB body', post(JSON.stringify({ ...valid, messages: [{ role: 'user', content: 'x'.repeat(10 * 1024 * 1024) }] })), 413, null],
  ];
  for (const [name, pending, status, param] of cases) {
    const res = await pending;
    assert.equal(res.status, status, `${name}: ${JSON.stringify(res.body)}`);
    const error = res.body.error;
    assert.ok(error && typeof error.message === 'string' && error.message.length > 0, `${name}: OpenAI error shape`);
    assert.ok('type' in error && 'param' in error && 'code' in error, name);
    if (param !== null) assert.equal(error.param, param, `${name}: ${error.message}`);
  }
  assert.match(
    (await post(JSON.stringify({ ...valid, max_tokens: 1e9 }))).body.error!.message,
    /maximum context length is 1024 tokens.*1000000000 in the completion/,
  );

  for (let i = 0; i < 1000; i++) {
    const bytes = randomBytes(1 + (i % 200));
    const res = await post(bytes, i % 2 === 0 ? '/v1/chat/completions' : '/v1/completions');
    assert.ok(res.status === 400, `random bytes #${i} got ${res.status}`);
  }
  const still = await chat('still there?', { max_tokens: 3 });
  assert.equal(still.usage!.completion_tokens, 3);
});

test('a prompt too long for the context gets a 400 with the counts before any reply, streamed or not; without max_tokens the reply fills what is left', async () => {
  const tokenizer = await AutoTokenizer.from_pretrained(modelDir);
  const long = 'The quick brown fox jumps over the lazy dog. '.repeat(100);
  const promptTokens = tokenizer.encode(long).length;
  assert.ok(promptTokens > 1000 && promptTokens < 1024, `${promptTokens}`);
  for (const stream of [false, true]) {
    const res = await raw('/v1/completions', {
      method: 'POST',
      body: JSON.stringify({ model: modelDir, prompt: long, max_tokens: 100, stream }),
    });
    assert.equal(res.status, 400, JSON.stringify(res.body));
    assert.equal(res.body.error!.code, 'context_length_exceeded');
    assert.equal(
      res.body.error!.message,
      `This model's maximum context length is 1024 tokens. However, you requested ${promptTokens + 100} tokens (${promptTokens} in the prompt, 100 in the completion). Please reduce the length of the prompt or completion.`,
    );
  }
  const tooLong = long.repeat(2);
  const full = await raw('/v1/completions', { method: 'POST', body: JSON.stringify({ model: modelDir, prompt: tooLong }) });
  assert.equal(full.status, 400);
  assert.match(full.body.error!.message, new RegExp(`your prompt hold ${tokenizer.encode(tooLong).length} tokens, which leaves no room`));
  // No max_tokens: the reply takes the rest of the context, no more.
  const rest = await client.completions.create({ model: modelDir, prompt: long, temperature: 0 });
  assert.equal(rest.usage!.prompt_tokens, promptTokens);
  assert.ok(rest.usage!.completion_tokens <= 1024 - promptTokens);
  if (rest.choices[0]!.finish_reason === 'length') assert.equal(rest.usage!.completion_tokens, 1024 - promptTokens);
});

test('one log line per request on stderr: method, path, status, tokens, ms', () => {
  assert.match(serve.stderr(), /^POST \/v1\/chat\/completions 200 12 tokens \d+ ms, first token \d+ ms, [\d.]+ tok\/s$/m);
  assert.match(serve.stderr(), /^GET \/v1\/models 200 0 tokens \d+ ms$/m);
});

test('SIGTERM while a reply streams: the server stops, the stream ends with its final chunk, and it exits 0', async () => {
  const own = await startServe(['--model', modelDir, '--offline'], { PARLEY_CONFIG_DIR: '/nonexistent-parley-config' });
  const c = new OpenAI({ baseURL: own.baseURL, apiKey: 'none', maxRetries: 0 });
  const stream = await c.completions.create({ model: modelDir, prompt: 'x', max_tokens: 900, temperature: 0, stream: true });
  let finish: string | null = null;
  const reading = (async () => {
    let signalled = false;
    for await (const chunk of stream) {
      if (!signalled) own.child.kill('SIGTERM');
      signalled = true;
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
  })().catch(() => undefined);
  assert.equal(await own.exited, 0);
  await reading;
  assert.equal(finish, 'length', 'the stream ends with its final chunk');
  assert.match(own.stderr(), /SIGTERM: stopping/);
  assert.equal(own.stderr().split('SIGTERM: stopping').length - 1, 1);
});

test('requests that arrive while others stream join them: their tokens interleave, up to --parallel at once', async () => {
  assert.match(serve.stderr(), /up to 4 requests decoded together/);
  const events: number[] = [];
  await Promise.all(
    [0, 1, 2, 3].map(async (i) => {
      const stream = await client.completions.create({
        model: modelDir,
        prompt: `Story ${i}:`,
        max_tokens: 30,
        temperature: 0,
        stream: true,
      });
      for await (const chunk of stream) if (chunk.choices[0]?.text) events.push(i);
    }),
  );
  // Served one at a time, each stream's tokens would form one run; batched, they alternate.
  const runs = events.filter((e, k) => k === 0 || events[k - 1] !== e).length;
  assert.ok(runs > 8, `tokens arrived in ${runs} runs: ${events.join('')}`);
});

test('a client that resends its growing conversation has the shared prefix served from the cache', async () => {
  const messages: OpenAI.Chat.ChatCompletionMessageParam[] = [
    { role: 'system', content: 'You are a patient storyteller who answers at length.' },
    { role: 'user', content: 'Tell me about the sea and the ships on it.' },
  ];
  const first = await client.chat.completions.create({ model: modelDir, messages, max_tokens: 12, temperature: 0 });
  messages.push({ role: 'assistant', content: first.choices[0]!.message.content! }, { role: 'user', content: 'And then?' });
  const second = await client.chat.completions.create({ model: modelDir, messages, max_tokens: 12, temperature: 0 });
  const cached = (second.usage as OpenAI.CompletionUsage).prompt_tokens_details?.cached_tokens ?? 0;
  assert.ok(
    cached >= first.usage!.prompt_tokens,
    `${cached} of ${second.usage!.prompt_tokens} prompt tokens cached; the first prompt had ${first.usage!.prompt_tokens}`,
  );
});

test('a graph that cannot batch (a hub export, present path) is served one request at a time, every request completes', async () => {
  // --no-convert: converted, the GPT-2 export would run on Parley's graph, which batches.
  const hub = await startServe(
    ['--model', path.join(REPO_ROOT, 'test', 'fixtures', 'hf-gpt2-tiny'), '--offline', '--no-convert', '--parallel', '4'],
    { PARLEY_CONFIG_DIR: '/nonexistent-parley-config' },
  );
  try {
    assert.match(hub.stderr(), /one request at a time \(this graph cannot batch\)/);
    const c = new OpenAI({ baseURL: hub.baseURL, apiKey: 'none', maxRetries: 0 });
    const events: number[] = [];
    const finishes = await Promise.all(
      [0, 1, 2].map(async (i) => {
        const stream = await c.completions.create({
          model: 'hf-gpt2-tiny',
          prompt: `Story ${i}:`,
          max_tokens: 10,
          temperature: 0,
          stream: true,
        });
        let finish: string | null = null;
        for await (const chunk of stream) {
          if (chunk.choices[0]?.text) events.push(i);
          finish = chunk.choices[0]?.finish_reason ?? finish;
        }
        return finish;
      }),
    );
    assert.deepEqual(finishes, ['length', 'length', 'length']);
    const runs = events.filter((e, k) => k === 0 || events[k - 1] !== e).length;
    assert.equal(runs, 3, `one run per request: ${events.join('')}`);
  } finally {
    await hub.stop();
  }
});

test('an instruct model gets its chat template: the prompt the server counts is the one the tokenizer renders', async () => {
  const folder = path.join(REPO_ROOT, 'test', 'fixtures', 'hf-qwen2-tiny');
  const qwen = await startServe(['--model', folder, '--offline'], { PARLEY_CONFIG_DIR: '/nonexistent-parley-config' });
  try {
    const c = new OpenAI({ baseURL: qwen.baseURL, apiKey: 'none', maxRetries: 0 });
    const messages = [
      { role: 'system' as const, content: 'Be brief.' },
      { role: 'user' as const, content: 'Hello there' },
    ];
    const reply = await c.chat.completions.create({ model: 'hf-qwen2-tiny', messages, max_tokens: 4, temperature: 0 });
    const tokenizer = await AutoTokenizer.from_pretrained(folder);
    const rendered = tokenizer.apply_chat_template(messages, { add_generation_prompt: true, tokenize: false }) as string;
    assert.match(rendered, /<\|im_start\|>assistant\n$/);
    assert.equal(reply.usage!.prompt_tokens, tokenizer.encode(rendered).length);
    // vLLM's /tokenize of messages: the same template, the same count.
    const res = await fetch(qwen.baseURL.replace(/\/v1$/, '/tokenize'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'hf-qwen2-tiny', messages }),
    });
    const counted = (await res.json()) as { count: number; tokens: number[] };
    assert.equal(counted.count, tokenizer.encode(rendered).length);
    assert.deepEqual(counted.tokens, tokenizer.encode(rendered));
    const both = await fetch(qwen.baseURL.replace(/\/v1$/, '/tokenize'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ prompt: 'x', messages }),
    });
    assert.equal(both.status, 400);
  } finally {
    await qwen.stop();
  }
});
