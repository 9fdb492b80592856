// Tokens can arrive much faster than a terminal should redraw. Deltas are collected and
// handed on at most once per frame, so React and Ink render once per frame, not per token.
//
// Each frame costs the UI thread a few milliseconds on a busy machine, however little
// changed: Ink lays out and redraws the whole live area (reply, input box, status bar),
// and the model needs the cores too. Ten frames a second is what reading needs (text
// appearing faster is not read faster), and on a slow machine a streaming reply still moves
// ten times a second. The first token after a pause is drawn at once.

export const FRAME_MS = 100;

export class TokenBatcher {
  private pending = '';
  private timer: NodeJS.Timeout | null = null;
  /** When the last frame was handed on; the first token after a pause is drawn at once. */
  private lastFlush = -Infinity;

  constructor(
    private readonly flush: (text: string) => void,
    private readonly frameMs = FRAME_MS,
    private readonly now: () => number = () => performance.now(),
  ) {}

  push(delta: string): void {
    if (!delta) return;
    this.pending += delta;
    if (this.timer) return;
    const wait = this.lastFlush + this.frameMs - this.now();
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
    this.lastFlush = this.now();
    this.flush(text);
  }
}
