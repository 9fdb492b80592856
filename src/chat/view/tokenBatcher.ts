// Tokens can arrive much faster than a terminal should redraw. Deltas are collected and
// handed on at most once per frame, so React and Ink render once per frame, not per token.
//
// Each frame costs the UI thread several milliseconds however little changed: React
// reconciles, Ink lays out and redraws the whole live area (reply, input box, status bar),
// a settled block is handed to <Static> with a render of its own, and the garbage follows.
// The model needs the cores too. So frames are spaced to keep the UI thread busy at most
// DUTY of the time while a reply streams, measured as it happens (the event loop's busy
// time, which takes in all of the above), never closer than FRAME_MS (ten a second: text
// appearing faster is not read faster) nor further apart than MAX_FRAME_MS, so a streaming
// reply always moves at least twice a second. The first token after a pause is drawn at once.

import { performance } from 'node:perf_hooks';

export const FRAME_MS = 100;
export const MAX_FRAME_MS = 500;
/** The share of wall time the UI thread may be busy while a reply streams. */
export const DUTY = 0.025;

/** The pause before the next frame, given how long the UI thread was busy per frame lately (ms). */
export function frameInterval(busyPerFrameMs: number): number {
  return Math.min(MAX_FRAME_MS, Math.max(FRAME_MS, busyPerFrameMs / DUTY));
}

/** Time now, and how long the UI thread has been busy in all (both in ms). */
export interface FrameClock {
  now(): number;
  busyMs(): number;
}

/** The event loop's own account: busy is the time it was not waiting for something to happen. */
export const uiThreadClock: FrameClock = {
  now: () => performance.now(),
  busyMs: () => performance.eventLoopUtilization().active,
};

export class TokenBatcher {
  private pending = '';
  private timer: NodeJS.Timeout | null = null;
  /** When the last frame was handed on, and the UI thread's busy time then. */
  private lastFlush = -Infinity;
  private lastBusy = 0;
  /** The UI thread's busy time per frame while tokens stream, smoothed over the last few frames. */
  private busyPerFrame = 0;

  constructor(
    private readonly flush: (text: string) => void,
    private readonly clock: FrameClock = uiThreadClock,
  ) {}

  /** The pause the next frame waits for after the last one. */
  get interval(): number {
    return frameInterval(this.busyPerFrame);
  }

  push(delta: string): void {
    if (!delta) return;
    this.pending += delta;
    if (this.timer) return;
    const wait = this.lastFlush + this.interval - this.clock.now();
    if (wait <= 0) this.drain();
    else this.timer = setTimeout(() => this.drain(), wait);
  }

  /** Hands on whatever is pending now; call when the stream ends. */
  drain(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.pending) return;
    const text = this.pending;
    this.pending = '';
    const now = this.clock.now();
    const busy = this.clock.busyMs();
    // Only a frame that followed the last one closely tells what streaming costs; after a
    // pause the busy time is whatever else the UI did (a command, a new prompt's window).
    if (now - this.lastFlush <= 2 * MAX_FRAME_MS) this.busyPerFrame = (this.busyPerFrame + (busy - this.lastBusy)) / 2;
    this.lastFlush = now;
    this.lastBusy = busy;
    this.flush(text);
  }
}
