// Fits the status bar's facts into the rows it may take: all of them when they fit, else
// the least needed in their short forms, one after the other, else without them.

export interface StatusSegment {
  text: string;
  /** The same fact in fewer columns. */
  short?: string;
  /** Lower stays longer when the width runs short. */
  priority: number;
  tone?: 'warning';
}

const SEPARATOR = ' · ';

/** Rows the status bar may take at `columns`: one below 80 columns, two from there. */
export function statusRows(columns: number): number {
  return columns < 80 ? 1 : 2;
}

/** The segments shown, row by row; each row's text (separators included) fits `columns`. */
export function fitStatus(segments: readonly StatusSegment[], columns: number): StatusSegment[][] {
  const rows = statusRows(columns);
  const fits = (shown: readonly StatusSegment[]): boolean => pack(shown, columns).length <= rows;
  // The least needed first (of equals, the one shown last): shortened one by one, then dropped.
  const order = segments.map((s, i) => ({ s, i })).sort((a, b) => b.s.priority - a.s.priority || b.i - a.i);
  let shown = [...segments];
  for (const { i } of order) {
    if (fits(shown)) return pack(shown, columns);
    const short = segments[i]!.short;
    if (short !== undefined) shown = shown.map((s, j) => (j === i ? { ...s, text: short } : s));
  }
  const dropped = new Set<number>();
  for (const { i } of order) {
    const kept = shown.filter((_, j) => !dropped.has(j));
    if (fits(kept) || kept.length <= 1) return pack(kept, columns).slice(0, rows);
    dropped.add(i);
  }
  return [];
}

/** Rows of segments in order, as many per row as fit `columns` (a segment wider than a row gets one alone). */
function pack(segments: readonly StatusSegment[], columns: number): StatusSegment[][] {
  const rows: StatusSegment[][] = [];
  let row: StatusSegment[] = [];
  let used = 0;
  for (const segment of segments) {
    const width = [...segment.text].length;
    const needed = row.length === 0 ? width : used + SEPARATOR.length + width;
    if (row.length > 0 && needed > columns) {
      rows.push(row);
      row = [segment];
      used = width;
    } else {
      row.push(segment);
      used = needed;
    }
  }
  if (row.length > 0) rows.push(row);
  return rows;
}
