// Where a stop sequence ends a reply, and how much of a streaming reply could still turn
// into one. Shared by the engine (which stops the model) and the chat layer (which also
// cuts text from engines that do not).

/** Index of the earliest stop sequence in `text` (starting at `from` or later), or -1. */
export function earliestStop(text: string, stops: readonly string[], from = 0): number {
  let best = -1;
  for (const stop of stops) {
    if (!stop) continue;
    const at = text.indexOf(stop, from);
    if (at !== -1 && (best === -1 || at < best)) best = at;
  }
  return best;
}

/** Length of the longest suffix of `text` that is a proper prefix of some stop sequence. */
export function partialStopLength(text: string, stops: readonly string[]): number {
  let longest = 0;
  for (const stop of stops) {
    for (let n = Math.min(stop.length - 1, text.length); n > longest; n--) {
      if (text.endsWith(stop.slice(0, n))) {
        longest = n;
        break;
      }
    }
  }
  return longest;
}

/**
 * Stops that are special tokens (<|im_end|>, <|eot_id|>, <end_of_turn>) end the reply by id:
 * decoding leaves special tokens out, so as text they would never be seen.
 */
export function specialStopIds(stops: readonly string[], specials: readonly { content: string; id: number }[]): number[] {
  return specials.filter((t) => stops.includes(t.content)).map((t) => t.id);
}
