// Token messages leave the engine thread in bursts; nothing is lost, reordered or held
// behind a reply's end. Timers are node:test's mock ones, the clock is simulated.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { FromWorker } from '../../../src/engine/protocol.js';
import { BURST_MS, TokenCoalescer } from '../../../src/engine/worker/tokenCoalescer.js';

function coalescer(t: TestContext, intervalMs = BURST_MS) {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  let now = 0;
  const posted: { at: number; msg: FromWorker }[] = [];
  const c = new TokenCoalescer(
    (msg) => posted.push({ at: now, msg }),
    intervalMs,
    () => now,
  );
  // A millisecond at a time, so a timer that fires sees the clock at its own time.
  const advance = (ms: number) => {
    for (let i = 0; i < ms; i++) {
      now += 1;
      t.mock.timers.tick(1);
    }
  };
  return { c, posted, advance };
}

const token = (id: number, n: number): FromWorker => ({ type: 'token', id, text: `t${n}`, tokenId: n });

/** What the client makes of the posts: every token message, in order. */
const unpacked = (posted: readonly { msg: FromWorker }[]): FromWorker[] =>
  posted.flatMap(({ msg }) => (msg.type === 'token-burst' ? msg.tokens : [msg]));

test('the first token goes at once, the next ones within the interval go together', (t) => {
  const { c, posted, advance } = coalescer(t);
  c.send(token(1, 0));
  assert.deepEqual(posted, [{ at: 0, msg: token(1, 0) }]);
  for (let n = 1; n <= 4; n++) {
    advance(10);
    c.send(token(1, n));
  }
  assert.equal(posted.length, 1, 'held until the interval is over');
  advance(BURST_MS - 40);
  assert.deepEqual(posted[1], { at: BURST_MS, msg: { type: 'token-burst', tokens: [1, 2, 3, 4].map((n) => token(1, n)) } });
  advance(BURST_MS * 3);
  c.send(token(1, 5));
  assert.deepEqual(posted[2], { at: BURST_MS * 4, msg: token(1, 5) }, 'after a quiet spell: at once, as a single token');
});

test('with an interval of 0 (parley serve) every token is its own message, sent at once', (t) => {
  const { c, posted } = coalescer(t, 0);
  for (let n = 0; n < 5; n++) c.send(token(n % 2, n));
  assert.deepEqual(
    posted.map(({ msg }) => msg),
    [0, 1, 2, 3, 4].map((n) => token(n % 2, n)),
  );
});

test("a reply's end, an error or any other message sends the held tokens first", (t) => {
  const { c, posted, advance } = coalescer(t);
  c.send(token(1, 0));
  c.send(token(1, 1));
  c.send(token(2, 7));
  c.send({ type: 'error', id: 2, code: 'internal', message: 'boom' });
  assert.deepEqual(
    posted.map(({ msg }) => msg),
    [token(1, 0), { type: 'token-burst', tokens: [token(1, 1), token(2, 7)] }, { type: 'error', id: 2, code: 'internal', message: 'boom' }],
  );
  advance(BURST_MS * 2);
  assert.equal(posted.length, 3, 'nothing was left behind to post later');
});

test('whatever the timing, every message arrives once, in order, tokens at most BURST_MS late', (t) => {
  fc.assert(
    fc.property(
      fc.array(fc.record({ gap: fc.integer({ min: 0, max: 120 }), done: fc.boolean() }), { minLength: 1, maxLength: 80 }),
      (steps) => {
        t.mock.timers.reset();
        const { c, posted, advance } = coalescer(t);
        const sent: { at: number; msg: FromWorker }[] = [];
        let now = 0;
        steps.forEach((step, n) => {
          advance(step.gap);
          now += step.gap;
          const msg: FromWorker = step.done
            ? { type: 'done', id: 1, text: '', reason: 'stop', promptTokens: 1, generatedTokens: n, ttftMs: 0, tokensPerSecond: 0 }
            : token(1, n);
          sent.push({ at: now, msg });
          c.send(msg);
        });
        advance(BURST_MS);
        assert.deepEqual(
          unpacked(posted),
          sent.map(({ msg }) => msg),
        );
        let i = 0;
        for (const { at, msg } of posted) {
          for (const one of msg.type === 'token-burst' ? msg.tokens : [msg]) {
            assert.ok(at - sent[i]!.at <= BURST_MS, `message ${i} held ${at - sent[i]!.at} ms`);
            assert.equal(one, sent[i]!.msg);
            i++;
          }
        }
      },
    ),
    { numRuns: 100 },
  );
});
