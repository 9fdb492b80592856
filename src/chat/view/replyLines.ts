// A reply streams into the live area under the transcript, and Ink redraws that area on every
// frame: its cost grows with the text in it. So the lines of the reply that can no longer
// change move into the transcript (<Static>, printed once) as they fill, and the live area
// keeps only the line still being written. Wrapping is the one Ink applies to <Text>
// (wrap-ansi, hard, untrimmed), so a moved line looks as it did while live.
import wrapAnsi from 'wrap-ansi';

/** Columns a reply is indented by on screen; its text wraps in the columns left. */
export const REPLY_INDENT = 2;

export interface SettledLines {
  /** Screen lines that are finished, in order; '' is an empty line. */
  lines: string[];
  /** The text still being written: the last line, and what arrives next is appended to it. */
  rest: string;
}

/**
 * Splits streaming `text` at the line it is still writing, for a column `width`. Every line
 * before it is final: later text only ever changes the line where it lands. No character is
 * dropped: the lines, with the newlines of `text` where it had them, and then `rest` make up
 * `text` again.
 */
export function settleLines(text: string, width: number): SettledLines {
  const logical = text.split('\n');
  const last = logical.pop()!;
  const lines: string[] = [];
  for (const line of logical) lines.push(...wrap(line, width));
  const wrapped = wrap(last, width);
  const rest = wrapped.pop()!;
  lines.push(...wrapped);
  return { lines, rest };
}

function wrap(line: string, width: number): string[] {
  if (line === '') return [''];
  return wrapAnsi(line, Math.max(1, width), { trim: false, hard: true }).split('\n');
}
