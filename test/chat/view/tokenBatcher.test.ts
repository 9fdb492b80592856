// Frame pacing of a streaming reply, on a simulated clock: what the UI thread is busy with is
// what a frame costs, and the timers are node:test's mock ones.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DUTY, FRAME_MS, MAX_FRAME_MS, TokenBatcher, frameInterval, type FrameClock } from '../../../src/chat/view/tokenBatcher.js';

/** A clock for the batcher whose UI thread is busy only while `flush` runs, for `cost` ms a frame. */
function simulatedUi(t: TestContext, cost: (frame: number) => number) {
  let now = 0;
  let busy = 0;
  const frames: number[] = [];
  const clock: FrameClock = { now: () => now, busyMs: () => busy };
  const onFrame = () => {
    frames.push(now);
    busy += cost(frames.length);
  };
  const advance = (ms: number) => {
    now += ms;
    t.mock.timers.tick(ms);
  };
  return { clock, onFrame, frames, advance, busy: () => busy };
}

test('the first token is drawn at once, the ones arriving within the next frame together', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const ui = simulatedUi(t, () => 0);
  const flushed: string[] = [];
  const batcher = new TokenBatcher((text) => {
    ui.onFrame();
    flushed.push(text);
  }, ui.clock);
  batcher.push('a');
  assert.deepEqual(flushed, ['a'], 'nothing was drawn lately: at once');
  batcher.push('b');
  batcher.push('c');
  batcher.push('');
  ui.advance(FRAME_MS - 1);
  assert.deepEqual(flushed, ['a'], 'not before the frame is due');
  ui.advance(1);
  assert.deepEqual(flushed, ['a', 'bc']);
  batcher.push('d');
  batcher.drain();
  batcher.drain();
  assert.deepEqual(flushed, ['a', 'bc', 'd']);
});

test("frames are spaced by the UI thread's busy time per frame: at most ten a second, at least two", () => {
  assert.equal(frameInterval(0), FRAME_MS);
  assert.equal(FRAME_MS, 100);
  assert.equal(frameInterval(5), 5 / DUTY);
  assert.equal(frameInterval(50), MAX_FRAME_MS);
  assert.equal(MAX_FRAME_MS, 500);
});

/** Streams a token every `tokenMs` for `durationMs` through a batcher whose frames cost `cost`. */
function stream(t: TestContext, cost: (frame: number) => number, tokenMs: number, durationMs: number) {
  const ui = simulatedUi(t, cost);
  const batcher = new TokenBatcher(ui.onFrame, ui.clock);
  for (let t = 0; t < durationMs; t += tokenMs) {
    batcher.push('x');
    ui.advance(tokenMs);
  }
  batcher.drain();
  const gaps = ui.frames.slice(1).map((at, i) => at - ui.frames[i]!);
  return { frames: ui.frames, gaps, share: ui.busy() / durationMs };
}

test('cheap frames are drawn ten times a second, not once per token', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  const { frames, gaps } = stream(t, () => 1, 5, 2000);
  assert.equal(frames[0], 0, 'the first token was drawn without waiting for a frame');
  assert.ok(frames.length >= 19 && frames.length <= 21, `${frames.length} frames in 2 s`);
  assert.ok(
    gaps.slice(0, -1).every((gap) => gap === FRAME_MS),
    `gaps ${gaps.join(' ')}`,
  );
});

test('whatever a frame costs, the UI thread stays within its duty while frames may be spaced, and a reply moves twice a second', (t) => {
  t.mock.timers.enable({ apis: ['setTimeout'] });
  fc.assert(
    fc.property(
      fc.double({ min: 0, max: 40, noNaN: true }),
      fc.double({ min: 0, max: 0.5, noNaN: true }),
      fc.integer({ min: 1, max: 60 }),
      (base, jitter, tokenMs) => {
        t.mock.timers.reset();
        t.mock.timers.enable({ apis: ['setTimeout'] });
        const cost = (frame: number) => base * (1 + (frame % 2 === 0 ? jitter : -jitter));
        const { gaps, share } = stream(t, cost, tokenMs, 20_000);
        const steady = gaps.slice(5, -1);
        assert.ok(
          steady.every((gap) => gap >= FRAME_MS && gap <= MAX_FRAME_MS + tokenMs),
          `gaps ${steady.join(' ')}`,
        );
        // Frames that would need more than MAX_FRAME_MS to fit the duty get it and no more.
        const allowed = Math.max(DUTY, (base * (1 + jitter)) / MAX_FRAME_MS);
        assert.ok(share <= allowed * 1.15 + 0.002, `busy ${(share * 100).toFixed(2)} % of the time with frames of ${base.toFixed(1)} ms`);
      },
    ),
    { numRuns: 60 },
  );
});
