import { earliestStop, partialStopLength } from './stopSequences.js';

/**
 * Turns the text of a reply, as it is decoded, into deltas that are safe to show:
 * - a stop sequence ends the reply and is never shown, not even its first characters
 *   (a suffix that could still become a stop sequence is held back);
 * - an incomplete UTF-8 character (decoded as U+FFFD at the end) is held back;
 * - the deltas always concatenate to the final text.
 * Fed either the whole text so far (update, finish) or the new text of each token (append,
 * end), not both.
 */
export class ReplyText {
  private emitted = '';
  private stopped = false;
  /** Appended text not shown yet (a possible stop's start, an incomplete character). */
  private held = '';
  /** The end of the text shown, as long as a stop's start could be. */
  private recent = '';
  private readonly longestStop: number;

  constructor(private readonly stops: readonly string[]) {
    this.longestStop = Math.max(0, ...stops.map((s) => s.length));
  }

  get text(): string {
    return this.emitted;
  }

  get hitStop(): boolean {
    return this.stopped;
  }

  /** `decoded` is the whole reply decoded so far. Returns the new visible text. */
  update(decoded: string): string {
    if (this.stopped) return '';
    const cut = earliestStop(decoded, this.stops);
    if (cut !== -1) {
      this.stopped = true;
      return this.advanceTo(decoded.slice(0, cut));
    }
    return this.advanceTo(decoded.slice(0, this.safeEnd(decoded)));
  }

  /** The reply ended for another reason: release what was held back. */
  finish(decoded: string): string {
    if (this.stopped) return '';
    return this.advanceTo(decoded);
  }

  /**
   * `piece` is the text the newest token adds. Returns the new visible text. Only the text
   * held back and the last few characters shown take part, never the whole reply.
   */
  append(piece: string): string {
    if (this.stopped) return '';
    // A stop cannot lie wholly inside text already checked, so it starts in the last
    // longestStop - 1 characters shown, the held text or the piece.
    const window = this.recent + this.held + piece;
    const cut = earliestStop(window, this.stops);
    if (cut !== -1) {
      this.stopped = true;
      return this.show(window.slice(this.recent.length, Math.max(cut, this.recent.length)), '');
    }
    const safe = Math.max(this.recent.length, this.safeEnd(window));
    return this.show(window.slice(this.recent.length, safe), window.slice(safe));
  }

  /** The last text of a reply that ended for another reason: it may still complete a stop; the rest is released. */
  end(piece: string): string {
    const shown = this.append(piece);
    return this.stopped ? shown : shown + this.show(this.held, '');
  }

  /** Where the text that is safe to show ends: before trailing U+FFFD and a partial stop. */
  private safeEnd(decoded: string): number {
    let safeEnd = decoded.length;
    while (safeEnd > 0 && decoded.charCodeAt(safeEnd - 1) === 0xfffd) safeEnd--;
    return safeEnd - partialStopLength(decoded.slice(0, safeEnd), this.stops);
  }

  private advanceTo(visible: string): string {
    const delta = extensionOf(this.emitted, visible);
    if (delta) this.emitted = visible;
    return delta;
  }

  private show(delta: string, held: string): string {
    this.emitted += delta;
    this.held = held;
    const keep = this.longestStop - 1;
    this.recent = keep > 0 ? (this.recent + delta).slice(-keep) : '';
    return delta;
  }
}

/**
 * What `visible` adds to the text already `shown`, or '' when it does not extend it.
 * Decoding is append-only for byte-level BPE without clean-up, so it only fails to extend if
 * a tokenizer rewrites earlier text; then what was shown stands rather than be contradicted.
 */
export function extensionOf(shown: string, visible: string): string {
  return visible.length > shown.length && visible.startsWith(shown) ? visible.slice(shown.length) : '';
}
