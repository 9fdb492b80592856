// Tokens can arrive much faster than a terminal should redraw. Deltas are collected and
// handed on at most once per frame, so React renders once per frame, not once per token.
// A frame stays cheap however long the reply grows: its finished lines leave the live area
// for the transcript (replyLines.ts), so Ink only ever lays out the line being written.

export const FRAME_MS = 24;

export class TokenBatcher {
  private pending = '';
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly flush: (text: string) => void,
    private readonly intervalMs: number = FRAME_MS,
  ) {}

  push(delta: string): void {
    if (!delta) return;
    this.pending += delta;
    this.timer ??= setTimeout(() => this.drain(), this.intervalMs);
  }

  /** Hands on whatever is pending now; call when the stream ends. */
  drain(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (!this.pending) return;
    const text = this.pending;
    this.pending = '';
    this.flush(text);
  }
}
