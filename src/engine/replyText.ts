import { earliestStop, partialStopLength } from './stopSequences.js';

/**
 * Turns the growing decoded text of a reply into deltas that are safe to show:
 * - a stop sequence ends the reply and is never shown, not even its first characters
 *   (a suffix that could still become a stop sequence is held back);
 * - an incomplete UTF-8 character (decoded as U+FFFD at the end) is held back;
 * - the deltas always concatenate to the final text.
 */
export class ReplyText {
  private emitted = '';
  private stopped = false;

  constructor(private readonly stops: readonly string[]) {}

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
    let safeEnd = decoded.length;
    while (safeEnd > 0 && decoded.charCodeAt(safeEnd - 1) === 0xfffd) safeEnd--;
    safeEnd -= partialStopLength(decoded.slice(0, safeEnd), this.stops);
    return this.advanceTo(decoded.slice(0, safeEnd));
  }

  /** The reply ended for another reason: release what was held back. */
  finish(decoded: string): string {
    if (this.stopped) return '';
    return this.advanceTo(decoded);
  }

  private advanceTo(visible: string): string {
    const delta = extensionOf(this.emitted, visible);
    if (delta) this.emitted = visible;
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
