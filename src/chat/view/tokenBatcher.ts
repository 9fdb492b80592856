// Tokens can arrive much faster than a terminal should redraw. Deltas are collected and
// handed on at most once per frame, so React and Ink render once per frame, not per token.
//
// Each frame costs the UI thread a few milliseconds on a busy machine, however little
// changed: Ink lays out and redraws the whole live area (reply, input box, status bar), and
// the model needs the cores too. Frames are spaced to keep drawing under DUTY of the UI
// thread's time, never closer than FRAME_MS (ten a second is what reading needs: text
// appearing faster is not read faster) nor further apart than MAX_FRAME_MS, so a streaming
// reply always moves at least four times a second. The first token after a pause is drawn at once.

export const FRAME_MS = 100;
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
  /** When the last frame was handed on; the first token after a pause is drawn at once. */
  private lastFlush = -Infinity;
  /** What the last frame cost, from the flush until the event loop came back (React and Ink render in between). */
  private lastCostMs = 0;

  constructor(
    private readonly flush: (text: string) => void,
    private readonly interval: (frameCostMs: number) => number = frameInterval,
    private readonly now: () => number = () => performance.now(),
  ) {}

  push(delta: string): void {
    if (!delta) return;
    this.pending += delta;
    if (this.timer) return;
    const wait = this.lastFlush + this.interval(this.lastCostMs) - this.now();
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
    const started = this.now();
    this.lastFlush = started;
    this.flush(text);
    setImmediate(() => {
      this.lastCostMs = this.now() - started;
    });
  }
}
