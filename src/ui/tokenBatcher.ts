// Tokens can arrive much faster than a terminal should redraw. Deltas are collected and
// handed on at most once per interval, so React renders once per frame, not once per token.
//
// The interval grows with the reply: Ink lays out and measures every character of the live
// area on each frame (string-width per character), so a frame of a long reply costs far more
// than one of a short reply. Spacing frames in proportion to the text already shown keeps the
// UI thread's share of a core small (it competes with the model on two-core machines), while
// short replies still stream at full frame rate.

export const FRAME_MS = 24;
/** Frame spacing per character already shown: Ink spends about 10-15 µs per character per frame; this keeps that near 1-2 % of a core. */
export const MS_PER_SHOWN_CHAR = 1;
export const MAX_FRAME_MS = 1000;

/** How long to collect tokens before the next frame, given how much of the reply is shown. */
export function frameInterval(shownChars: number): number {
  return Math.min(MAX_FRAME_MS, Math.max(FRAME_MS, shownChars * MS_PER_SHOWN_CHAR));
}

export class TokenBatcher {
  private pending = '';
  private shown = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly flush: (text: string) => void,
    private readonly interval: (shownChars: number) => number = frameInterval,
  ) {}

  push(delta: string): void {
    if (!delta) return;
    this.pending += delta;
    this.timer ??= setTimeout(() => this.drain(), this.interval(this.shown));
  }

  /** Hands on whatever is pending now; call when the stream ends. */
  drain(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.pending) return;
    const text = this.pending;
    this.pending = '';
    this.shown += text.length;
    this.flush(text);
  }
}
