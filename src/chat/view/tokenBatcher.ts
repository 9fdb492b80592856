// Tokens can arrive much faster than a terminal should redraw. Deltas are collected and
// handed on at most once per frame, so React and Ink render once per frame, not per token.
//
// A frame costs about the same however long the reply grows (its finished lines leave the
// live area, see replyLines.ts), but what it costs depends on the machine: well under a
// millisecond on a fast one, several on a slow shared one. The model needs the cores too, so
// frames are spaced to keep drawing under DUTY of the UI thread's time: a fast machine
// streams at FRAME_MS (30 frames a second: text appearing faster is not read faster), a slow
// or busy one at fewer frames, each bringing more text.

export const FRAME_MS = 33;
export const MAX_FRAME_MS = 250;
/** The share of wall time the UI thread may spend drawing a streaming reply. */
export const DUTY = 0.02;

/** The pause before the next frame, given what the last frame cost (ms). */
export function frameInterval(frameCostMs: number): number {
  return Math.min(MAX_FRAME_MS, Math.max(FRAME_MS, frameCostMs / DUTY));
}

export class TokenBatcher {
  private pending = '';
  private timer: NodeJS.Timeout | null = null;
  /** What the last frame cost, from the flush until the event loop came back (React and Ink render in between). */
  private lastCostMs = 0;

  constructor(
    private readonly flush: (text: string) => void,
    private readonly interval: (frameCostMs: number) => number = frameInterval,
  ) {}

  push(delta: string): void {
    if (!delta) return;
    this.pending += delta;
    this.timer ??= setTimeout(() => this.drain(), this.interval(this.lastCostMs));
  }

  /** Hands on whatever is pending now; call when the stream ends. */
  drain(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.pending) return;
    const text = this.pending;
    this.pending = '';
    const started = performance.now();
    this.flush(text);
    setImmediate(() => {
      this.lastCostMs = performance.now() - started;
    });
  }
}
