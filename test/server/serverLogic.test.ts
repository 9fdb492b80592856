// The server's pure parts: admission (slots, FIFO queue, 429), request plans, reply trimming,
// serve flags; and the 429 path over HTTP on a fake engine.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Admission } from '../../src/server/admission.js';
import { ApiError } from '../../src/server/apiError.js';
import { completionPrompt, planRequest, refuseUnfittable, replyLength } from '../../src/server/requestParams.js';
import { HostGuard, parseAllowedOrigins } from '../../src/server/hostGuard.js';
import { loggedPath, sentStatus } from '../../src/server/requestLog.js';
import { inputBytesPerToken } from '../../src/engine/tokenizer/inputBytesPerToken.js';
import { TrimmedReply } from '../../src/server/trimmedReply.js';
import { isLoopback, parseServeArgs } from '../../src/cli/serveArgs.js';
import { buildServer } from '../../src/server/app.js';
import { servedModel } from '../../src/server/servedModel.js';
import { FakeEngine } from '../helpers/fakeEngine.js';
import { waitFor } from '../helpers/waitFor.js';
import type { GenerationStream } from '../../src/engine/engineClient.js';
import type { GenerateEvent, GenerateParams } from '../../src/engine/protocol.js';

test('admission: slots first, then a FIFO queue, then 429 with Retry-After; a waiter that gives up leaves', async () => {
  const admission = new Admission(2, 2);
  const r1 = await admission.acquire();
  const r2 = await admission.acquire();
  const order: number[] = [];
  const w3 = admission.acquire().then((release) => (order.push(3), release));
  const gone = new AbortController();
  const w4 = admission.acquire(gone.signal);
  await assert.rejects(
    admission.acquire(),
    (e: unknown) => e instanceof ApiError && e.status === 429 && e.headers['retry-after'] !== undefined,
  );
  gone.abort();
  await assert.rejects(w4, { name: 'AbortError' });
  assert.equal(admission.queued, 1);
  const w5 = admission.acquire().then((release) => (order.push(5), release));
  r1();
  r1(); // a second release of the same slot changes nothing
  const r3 = await w3;
  assert.equal(admission.running, 2);
  r2();
  const r5 = await w5;
  assert.deepEqual(order, [3, 5]);
  r3();
  r5();
  assert.equal(admission.running, 0);
});

test('admission: whatever the order of arrivals and releases, running never exceeds the slots and nobody is lost', async () => {
  await fc.assert(
    fc.asyncProperty(fc.integer({ min: 1, max: 4 }), fc.array(fc.boolean(), { minLength: 1, maxLength: 40 }), async (slots, script) => {
      const admission = new Admission(slots, 1000);
      const held: (() => void)[] = [];
      let granted = 0;
      let asked = 0;
      for (const arrive of script) {
        if (arrive) {
          asked++;
          void admission.acquire().then((release) => {
            granted++;
            held.push(release);
          });
        } else held.shift()?.();
        await Promise.resolve();
        await Promise.resolve();
        assert.ok(admission.running <= slots);
      }
      while (granted < asked) {
        held.shift()?.();
        await new Promise((r) => setImmediate(r));
      }
      assert.equal(granted, asked);
    }),
  );
});

test('request plans: OpenAI defaults, stop as a string or list, n and penalties refused by name', () => {
  const plan = planRequest({ model: 'm', prompt: 'x' });
  assert.deepEqual(plan.sampling, { temperature: 1, topP: 1, topK: 0, repetitionPenalty: 1, seed: null });
  assert.deepEqual(planRequest({ model: 'm', prompt: 'x', stop: 'END' }).stop, ['END']);
  assert.equal(planRequest({ model: 'm', prompt: 'x', top_k: -1 }).sampling.topK, 0);
  assert.equal(planRequest({ model: 'm', messages: [], max_tokens: 5, max_completion_tokens: 7 }).maxTokens, 7);
  assert.equal(planRequest({ model: 'm', prompt: 'x', stream: true, stream_options: { include_usage: true } }).includeUsage, true);
  const refused = (body: object, param: string): void =>
    assert.throws(
      () => planRequest({ model: 'm', prompt: 'x', ...body }),
      (e: unknown) => e instanceof ApiError && e.status === 400 && e.param === param,
    );
  refused({ n: 3 }, 'n');
  refused({ presence_penalty: 0.5 }, 'presence_penalty');
  refused({ echo: true }, 'echo');
  assert.doesNotThrow(() => planRequest({ model: 'm', prompt: 'x', n: 1, presence_penalty: 0 }));
  assert.throws(() => completionPrompt(['a', 'b']), /lists of 2 prompts/);
});

test('reply length: what fits, the rest of the context by default, refusals with the counts', () => {
  assert.equal(replyLength(10, 5, 100, 'prompt'), 5);
  assert.equal(replyLength(10, null, 100, 'prompt'), 90);
  assert.equal(replyLength(10, 90, 100, 'prompt'), 90);
  assert.throws(
    () => replyLength(10, 91, 100, 'messages'),
    /maximum context length is 100 tokens\. However, you requested 101 tokens \(10 in the messages, 91 in the completion\)/,
  );
  assert.throws(() => replyLength(100, null, 100, 'prompt'), /hold 100 tokens/);
});

test('a trimmed reply streams what the terminal shows: no edge whitespace, deltas concatenate to the trimmed text', () => {
  fc.assert(
    fc.property(fc.array(fc.constantFrom(' ', '\n', 'a', 'b ', ' c', '\t', 'd\n'), { maxLength: 20 }), (parts) => {
      const trim = new TrimmedReply();
      const out = parts.map((p) => trim.push(p)).join('');
      assert.equal(out, parts.join('').trim());
    }),
  );
});

test('serve flags: defaults, the key from the environment, bad numbers refused; loopback addresses', () => {
  const args = parseServeArgs([], { PARLEY_API_KEY: 'k' });
  assert.deepEqual(
    { host: args.host, port: args.port, parallel: args.parallel, maxQueue: args.maxQueue, apiKey: args.apiKey },
    { host: '127.0.0.1', port: 8080, parallel: 4, maxQueue: 32, apiKey: 'k' },
  );
  assert.equal(parseServeArgs(['--api-key', 'flag'], { PARLEY_API_KEY: 'env' }).apiKey, 'flag');
  assert.equal(parseServeArgs([], {}).apiKey, null);
  assert.throws(() => parseServeArgs(['--port', '70000'], {}), /--port must be a whole number/);
  assert.throws(() => parseServeArgs(['--parallel', '0'], {}), /--parallel/);
  assert.throws(() => parseServeArgs(['--dtype', 'fp64'], {}), /--dtype/);
  assert.ok(isLoopback('127.0.0.1') && isLoopback('::1') && isLoopback('localhost'));
  assert.ok(!isLoopback('0.0.0.0') && !isLoopback('192.168.1.2') && !isLoopback('::'));
});

test('over HTTP: past --parallel and --max-queue a request gets 429 with Retry-After', async () => {
  const engine = new FakeEngine({ contextLength: 1024, fallback: { tokens: Array(50).fill('x'), delayMs: 20 } });
  const server = buildServer({
    engine,
    model: servedModel('fake', engine.model!),
    apiKey: null,
    parallel: 1,
    maxQueue: 1,
    log: () => undefined,
  });
  const body = JSON.stringify({ model: 'fake', prompt: 'hi', max_tokens: 50 });
  const url = await server.app.listen({ host: '127.0.0.1', port: 0 });
  const send = () => fetch(`${url}/v1/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  const first = send();
  const second = send();
  await waitFor(() => server.admission.queued >= 1, { what: 'the second request to queue' });
  const third = await send();
  assert.equal(third.status, 429);
  assert.ok(Number(third.headers.get('retry-after')) >= 1);
  assert.equal(((await third.json()) as { error: { type: string } }).error.type, 'rate_limit_error');
  assert.equal((await first).status, 200);
  assert.equal((await second).status, 200);
  await server.app.close();
});

test('token counting logs at the debug level (a chat client counts as its user types); the rest at info', async () => {
  const engine = new FakeEngine({ contextLength: 1024, fallback: { tokens: ['a'], delayMs: 0 } });
  const lines: { line: string; level: string }[] = [];
  const server = buildServer({
    engine,
    model: servedModel('fake', engine.model!),
    apiKey: null,
    parallel: 1,
    maxQueue: 1,
    log: (line, level) => lines.push({ line, level }),
  });
  await server.app.ready();
  const post = (url: string, payload: object) => server.app.inject({ method: 'POST', url, payload });
  assert.equal((await post('/tokenize', { content: 'hello' })).statusCode, 200);
  assert.equal((await post('/v1/completions', { model: 'fake', prompt: 'hi', max_tokens: 1 })).statusCode, 200);
  assert.equal((await post('/tokenize', { nonsense: 1 })).statusCode, 400);
  await server.app.close();
  assert.deepEqual(
    lines.map((l) => `${l.level} ${l.line.split(' ').slice(0, 3).join(' ')}`),
    ['debug POST /tokenize 200', 'info POST /v1/completions 200', 'info POST /tokenize 400'],
  );
  assert.equal(parseServeArgs(['--verbose'], {}).verbose, true);
  assert.equal(parseServeArgs([], {}).verbose, false);
});

/** The scripted engine with the worker's context rule: it counts the prompt itself and refuses one that does not fit, as 'over-limit'. */
class LimitedFakeEngine extends FakeEngine {
  /** The parameters each generate() was called with, before the engine fitted them. */
  readonly asked: GenerateParams[] = [];

  override generate(prompt: string, params: GenerateParams): GenerationStream {
    this.asked.push(params);
    const contextLength = this.model!.contextLength;
    const [promptTokens = 0] = prompt === '' ? [1] : [Math.ceil(prompt.length / 4)];
    const maxNewTokens = params.fitToContext
      ? Math.max(1, Math.min(params.maxNewTokens, contextLength - promptTokens))
      : params.maxNewTokens;
    if (promptTokens + maxNewTokens <= contextLength) return super.generate(prompt, { ...params, maxNewTokens });
    this.calls.push({ prompt, params });
    async function* refused(): AsyncGenerator<GenerateEvent> {
      yield {
        type: 'done',
        reason: 'error',
        errorCode: 'over-limit',
        error: 'too long',
        text: '',
        promptTokens,
        generatedTokens: 0,
        ttftMs: 0,
        tokensPerSecond: 0,
      };
    }
    return { requestId: 0, [Symbol.asyncIterator]: refused };
  }
}

test("over HTTP: no token count before generating; the engine's own count gives the 400 for a prompt too long, streamed or not", async () => {
  const engine = new LimitedFakeEngine({ contextLength: 64, fallback: { tokens: Array(80).fill('x') } });
  const server = buildServer({
    engine,
    model: servedModel('fake', engine.model!),
    apiKey: null,
    parallel: 1,
    maxQueue: 4,
    log: () => undefined,
  });
  const url = await server.app.listen({ host: '127.0.0.1', port: 0 });
  const post = (body: object) =>
    fetch(`${url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'fake', ...body }),
    });
  try {
    const ok = await post({ prompt: 'a'.repeat(40), max_tokens: 5 });
    assert.equal(ok.status, 200);
    assert.equal(((await ok.json()) as { usage: { completion_tokens: number } }).usage.completion_tokens, 5);
    assert.equal(engine.countedTexts, 0, 'the prompt was not counted in a round trip of its own');
    assert.equal(engine.asked.at(-1)!.maxNewTokens, 5);

    for (const stream of [false, true]) {
      const res = await post({ prompt: 'a'.repeat(240), max_tokens: 5, stream });
      assert.equal(res.status, 400);
      assert.match(res.headers.get('content-type') ?? '', /application\/json/);
      const { error } = (await res.json()) as { error: { message: string; code: string; param: string } };
      assert.equal(error.code, 'context_length_exceeded');
      assert.equal(error.param, 'prompt');
      assert.match(
        error.message,
        /maximum context length is 64 tokens\. However, you requested 65 tokens \(60 in the prompt, 5 in the completion\)/,
      );
    }
    // No max_tokens: the engine is told to fit the reply to what the prompt leaves.
    const rest = await post({ prompt: 'a'.repeat(200) });
    assert.equal(rest.status, 200);
    assert.equal(((await rest.json()) as { usage: { completion_tokens: number } }).usage.completion_tokens, 14);
    assert.deepEqual([engine.asked.at(-1)!.maxNewTokens, engine.asked.at(-1)!.fitToContext], [64, true]);
    const none = await post({ prompt: 'a'.repeat(256) });
    assert.match(((await none.json()) as { error: { message: string } }).error.message, /your prompt hold 64 tokens, which leaves no room/);
    assert.equal(engine.countedTexts, 0);
    // A reply that cannot fit whatever the prompt: refused at once, counted here.
    const huge = await post({ prompt: 'hi', max_tokens: 64 });
    assert.equal(huge.status, 400);
  } finally {
    await server.app.close();
  }
});

test('a text too many bytes to fit the context is refused unread; a bound is known only for tokenizers that keep every byte', () => {
  assert.doesNotThrow(() => refuseUnfittable('a'.repeat(1024 * 128), 1024, 128, 'prompt'));
  assert.throws(
    () => refuseUnfittable('a'.repeat(1024 * 128 + 1), 1024, 128, 'messages'),
    (e: ApiError) =>
      e.status === 400 &&
      e.code === 'context_length_exceeded' &&
      e.param === 'messages' &&
      /maximum context length is 1024 tokens/.test(e.message),
  );
  // Multi-byte text is measured in bytes, not characters.
  assert.throws(() => refuseUnfittable('é'.repeat(70_000), 1024, 128, 'prompt'));
  assert.doesNotThrow(() => refuseUnfittable('a'.repeat(10_000_000), 1024, null, 'prompt'));
  const bpe = { model: { type: 'BPE', vocab: { a: 0, abc: 1, Ġthe: 2 } }, added_tokens: [{ content: '<|endoftext|>' }] };
  assert.equal(inputBytesPerToken(bpe, null), 13);
  assert.equal(inputBytesPerToken({ ...bpe, normalizer: { type: 'NFC' } }, null), 39);
  assert.equal(inputBytesPerToken({ ...bpe, normalizer: { type: 'Replace', pattern: { Regex: '\\s+' }, content: ' ' } }, null), null);
  assert.equal(inputBytesPerToken({ ...bpe, pre_tokenizer: { type: 'Whitespace' } }, null), null);
  assert.equal(inputBytesPerToken({ ...bpe, model: { ...bpe.model, fuse_unk: true, unk_token: '<unk>' } }, null), null);
  assert.equal(inputBytesPerToken({ model: { type: 'WordPiece', vocab: {} } }, null), null);
});

test('request plans: a temperature below epsilon is greedy; a repetition penalty outside 0.01–10 is refused by name', () => {
  const base = { model: 'm', prompt: 'x' };
  assert.equal(planRequest({ ...base, temperature: 1e-320 }).sampling.temperature, 0);
  assert.equal(planRequest({ ...base, temperature: 0.5 }).sampling.temperature, 0.5);
  for (const bad of [1e-300, 0.001]) {
    assert.throws(
      () => planRequest({ ...base, repetition_penalty: bad }),
      (e: ApiError) => e.status === 400 && e.param === 'repetition_penalty',
    );
  }
  assert.equal(planRequest({ ...base, repetition_penalty: 1.1 }).sampling.repetitionPenalty, 1.1);
});

test('host and origin checks: loopback names for a loopback bind, any for a wildcard one; pages on this machine and allowed origins', () => {
  const local = new HostGuard('127.0.0.1', []);
  for (const ok of ['127.0.0.1:8080', 'localhost:8080', '[::1]:8080', 'LOCALHOST', undefined]) assert.ok(local.hostAllowed(ok), String(ok));
  for (const bad of ['evil.example', 'evil.example:8080', '127.0.0.1.nip.io:8080', '']) assert.ok(!local.hostAllowed(bad), bad);
  assert.ok(new HostGuard('0.0.0.0', []).hostAllowed('mybox.lan:8080'));
  assert.ok(new HostGuard('192.168.1.5', []).hostAllowed('192.168.1.5:8080'));
  assert.ok(!new HostGuard('192.168.1.5', []).hostAllowed('evil.example'));
  assert.ok(new HostGuard('::1', []).hostAllowed('[::1]:8080'));
  assert.ok(local.originAllowed('http://localhost:3000') && local.originAllowed('https://127.0.0.1'));
  assert.ok(
    !local.originAllowed('http://evil.example') && !local.originAllowed('null') && !local.originAllowed('http://localhost.evil.example'),
  );
  const allowed = new HostGuard('127.0.0.1', parseAllowedOrigins('https://app.example/, http://x.test:81', undefined));
  assert.ok(allowed.originAllowed('https://app.example') && allowed.originAllowed('http://x.test:81'));
  assert.ok(allowed.hostAllowed('app.example'), 'a name the user allows as an origin is one they serve under');
  assert.ok(!allowed.originAllowed('https://other.example'));
  assert.ok(new HostGuard('127.0.0.1', ['*']).originAllowed('https://anything.example'));
  assert.deepEqual(parseAllowedOrigins('a.example', 'b.example,c.example'), ['a.example', 'b.example', 'c.example']);
});

test('log lines: query values left out; what was sent, not 200, for a request that got nothing', () => {
  assert.equal(loggedPath('/v1/models?key=S3cretKEY-987&x=1'), '/v1/models?key=…&x=…');
  assert.equal(loggedPath('/health'), '/health');
  assert.equal(loggedPath('/a\u001b]0;x\u0007'), '/a?]0;x?');
  assert.equal(sentStatus({ status: 200, finished: true, headersSent: true, timedOut: false }), '200');
  assert.equal(sentStatus({ status: 200, finished: false, headersSent: true, timedOut: false }), '200 (client gone)');
  assert.equal(sentStatus({ status: 200, finished: false, headersSent: false, timedOut: false }), 'no response (client gone)');
  assert.equal(sentStatus({ status: 200, finished: false, headersSent: false, timedOut: true }), '408 (request timed out)');
});

test('serve flags: --timeout, --max-connections, --shutdown-grace, --allowed-origins and its variable; an empty --api-key is refused', () => {
  const d = parseServeArgs([], {});
  assert.deepEqual([d.timeoutSeconds, d.maxConnections, d.shutdownGraceSeconds, d.allowedOrigins], [60, 256, 5, []]);
  const s = parseServeArgs(
    ['--timeout', '5', '--max-connections', '10', '--shutdown-grace', '0', '--allowed-origins', 'https://a.example'],
    { PARLEY_ALLOWED_ORIGINS: 'https://b.example' },
  );
  assert.deepEqual(
    [s.timeoutSeconds, s.maxConnections, s.shutdownGraceSeconds, s.allowedOrigins],
    [5, 10, 0, ['https://a.example', 'https://b.example']],
  );
  assert.throws(() => parseServeArgs(['--api-key', ''], {}), /^Error: --api-key must not be empty/);
  assert.throws(() => parseServeArgs(['--max-connections', '0'], {}), /--max-connections/);
  assert.equal(parseServeArgs([], { PARLEY_API_KEY: '' }).apiKey, null);
});

test('over HTTP: /tokenize is admitted one at a time, its queue shown in /health, and a text that cannot fit is refused unread', async () => {
  const engine = new FakeEngine({ contextLength: 64 });
  let counting = 0;
  let most = 0;
  engine.tokenize = async (texts: string[]) => {
    most = Math.max(most, ++counting);
    await new Promise((r) => setTimeout(r, 30));
    counting--;
    return texts.map((t) => Array.from(t, () => 1));
  };
  const model = servedModel('fake', { ...engine.model!, maxTokenBytes: 4 });
  const server = buildServer({ engine, model, apiKey: null, parallel: 1, maxQueue: 2, log: () => undefined });
  const url = await server.app.listen({ host: '127.0.0.1', port: 0 });
  try {
    const post = (prompt: string) =>
      fetch(`${url}/tokenize`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt }) });
    const pending = Array.from({ length: 6 }, () => post('abc'));
    while (server.tokenizing.queued < 5) await new Promise((r) => setTimeout(r, 5));
    const health = (await (await fetch(`${url}/health`)).json()) as Record<string, number>;
    assert.equal(health['tokenizing'], 1);
    assert.equal(health['tokenize_queued'], 5);
    assert.deepEqual(
      (await Promise.all(pending)).map((r) => r.status),
      [200, 200, 200, 200, 200, 200],
    );
    assert.equal(most, 1, 'one count at a time in the tokenizer thread');
    const started = performance.now();
    const huge = await post('a'.repeat(257));
    assert.equal(huge.status, 400);
    assert.equal(((await huge.json()) as { error: { code: string } }).error.code, 'context_length_exceeded');
    assert.ok(performance.now() - started < 1000);
    assert.equal(counting, 0);
  } finally {
    await server.app.close();
  }
});
