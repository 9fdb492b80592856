// A reply streams into the live area under the transcript, and Ink redraws that area on every
// frame: its cost grows with the text in it. So the lines of the reply that can no longer
// change move into the transcript (<Static>, printed once) as they fill, and the live area
// keeps only the line still being written. Wrapping is the one Ink applies to <Text>
// (wrap-ansi, hard, untrimmed), except that a screen line a text wraps onto does not start
// with the space it broke at: that space would push it one column past the reply's indent.
import wrapAnsi from 'wrap-ansi';

/** Columns a reply is indented by on screen; its text wraps in the columns left. */
export const REPLY_INDENT = 2;

export interface SettledLines {
  /** Screen lines that are finished, in order; '' is an empty line. */
  lines: string[];
  /** The text still being written: the last line, and what arrives next is appended to it. */
  rest: string;
  /** `rest` is a row its line wrapped onto (not the start of a line): pass it back with it. */
  continues: boolean;
}

/**
 * Splits streaming `text` at the line it is still writing, for a column `width`. Every line
 * before it is final: later text only ever changes the line where it lands. No character is
 * dropped but the spaces a line wraps at: the lines, with the newlines of `text` where it had
 * them, and then `rest` make up `text` again. `continues`: `text` starts on a row a line
 * wrapped onto (the `continues` of the call that gave the rest it starts with).
 */
export function settleLines(text: string, width: number, continues = false): SettledLines {
  const logical = text.split('\n');
  const last = logical.pop()!;
  const lines: string[] = [];
  logical.forEach((line, i) => lines.push(...wrap(line, width, continues && i === 0)));
  const wrapped = wrap(last, width, continues && logical.length === 0);
  const rest = wrapped.pop()!;
  lines.push(...wrapped);
  return { lines, rest, continues: wrapped.length > 0 || (continues && logical.length === 0) };
}

/** `text` as the screen shows it in `width` columns: each line wrapped as settleLines does. */
export function wrapReply(text: string, width: number): string {
  return text
    .split('\n')
    .flatMap((line) => wrap(line, width))
    .join('\n');
}

function wrap(whole: string, width: number, continued = false): string[] {
  // A row a line wrapped onto does not start with the spaces it broke at.
  const line = continued ? whole.replace(/^ +/, '') : whole;
  if (line === '') return [''];
  const rows = wrapAnsi(line, Math.max(1, width), { trim: false, hard: true }).split('\n');
  // A line's own indentation stays; the spaces a row was broken at go, and a row that was
  // nothing but such spaces (wrap-ansi makes one when a word fills a row) goes with them.
  return rows.flatMap((row, i) => {
    if (i === 0) return [row];
    const kept = row.replace(/^ +/, '');
    return kept === '' && i < rows.length - 1 ? [] : [kept];
  });
}
