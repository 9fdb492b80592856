// A GFM table with its columns aligned as the delimiter row asks. When the columns do not fit
// the width, the widest give up room first and their cells wrap inside the column.
import type { Tokens } from 'marked';
import stringWidth from 'string-width';
import { inlineText } from './inlineText.js';
import type { Styler } from './markdownStyle.js';
import { wrapStyled } from './wrapStyled.js';

type Align = 'center' | 'left' | 'right' | null;

const SEPARATOR = ' │ ';
const MIN_COLUMN = 3;

export function tableLines(table: Tokens.Table, width: number, s: Styler): string[] {
  const header = table.header.map((cell) => s.bold(inlineText(cell.tokens, s)));
  const rows = table.rows.map((row) => row.map((cell) => inlineText(cell.tokens, s)));
  const count = Math.max(header.length, ...rows.map((r) => r.length));
  const all = [header, ...rows];
  const natural = Array.from({ length: count }, (_, c) => Math.max(1, ...all.map((row) => maxLineWidth(row[c] ?? ''))));
  const widths = fitColumns(natural, width - SEPARATOR.length * (count - 1));
  const lines = [...rowLines(header, widths, table.align)];
  lines.push(s.color('gray', widths.map((w) => '─'.repeat(w)).join('─┼─')));
  for (const row of rows) lines.push(...rowLines(row, widths, table.align));
  return lines;
}

function maxLineWidth(text: string): number {
  return Math.max(0, ...text.split('\n').map((line) => stringWidth(line)));
}

/** Shrinks the widest columns until the row fits `room` (or every column is at its minimum). */
export function fitColumns(natural: readonly number[], room: number): number[] {
  const widths = [...natural];
  let excess = widths.reduce((a, b) => a + b, 0) - room;
  while (excess > 0) {
    const widest = Math.max(...widths);
    if (widest <= MIN_COLUMN) break;
    const i = widths.indexOf(widest);
    widths[i] = widest - 1;
    excess--;
  }
  return widths;
}

function rowLines(cells: readonly string[], widths: readonly number[], align: readonly Align[]): string[] {
  const wrapped = widths.map((w, c) => wrapStyled(cells[c] ?? '', w));
  const height = Math.max(...wrapped.map((w) => w.length));
  const lines: string[] = [];
  for (let i = 0; i < height; i++) {
    const parts = widths.map((w, c) => pad(wrapped[c]?.[i] ?? '', w, align[c] ?? null));
    lines.push(parts.join(SEPARATOR).trimEnd());
  }
  return lines;
}

function pad(text: string, width: number, align: Align): string {
  const room = Math.max(0, width - stringWidth(text));
  if (align === 'right') return ' '.repeat(room) + text;
  if (align === 'center') return ' '.repeat(Math.floor(room / 2)) + text + ' '.repeat(room - Math.floor(room / 2));
  return text + ' '.repeat(room);
}
