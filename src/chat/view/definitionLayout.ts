// Lays out a definition list (a term, then what it means: /help) for a screen width. Wide
// enough, in two columns: each section's terms padded to one width, each description wrapped in the
// column beside them, its later lines under its start (a hanging indent). Too narrow for
// that, in one column: the term alone, the description on the lines under it, indented.
// Every line fits the width, so the terminal never wraps one back to column 0.
import wrapAnsi from 'wrap-ansi';
import type { DefinitionSection } from './transcriptItems.js';

const GAP = 2;
/** Narrowest description column worth the two-column layout. */
const MIN_DESCRIPTION = 30;
/** A term wider than this share of the screen goes on a line of its own. */
const MAX_TERM_SHARE = 0.45;
/** The description's indent in the one-column layout. */
const NARROW_INDENT = 4;

/** Columns a help text takes: it is Parley's own text, one column per code point. */
const stringWidth = (text: string): number => [...text].length;

export function layoutDefinitions(sections: readonly DefinitionSection[], columns: number): string[] {
  const width = Math.max(10, columns);
  const termCap = Math.floor(width * MAX_TERM_SHARE);
  // Each section's term column is as wide as its widest term that fits the cap; wider ones stand alone.
  const termWidths = sections.map((s) => Math.max(0, ...s.rows.map(([term]) => stringWidth(term)).filter((w) => w <= termCap)));
  // One layout for the whole list: two columns only if every section gets a wide enough description column.
  const twoColumns = termWidths.every((w) => width - w - GAP >= MIN_DESCRIPTION);
  const lines: string[] = [];
  sections.forEach((section, i) => {
    if (i > 0) lines.push('');
    if (section.title !== null) lines.push(...wrapped(section.title, width, 0));
    const termWidth = termWidths[i]!;
    for (const [term, description] of section.rows) {
      if (!twoColumns) {
        lines.push(...wrappedTerm(term, width), ...wrapped(description, width - NARROW_INDENT, NARROW_INDENT));
        continue;
      }
      const indent = termWidth + GAP;
      const described = wrapped(description, width - indent, indent);
      if (stringWidth(term) > termWidth) {
        lines.push(...wrappedTerm(term, width), ...described);
        continue;
      }
      const first = described[0]?.slice(indent) ?? '';
      lines.push(`${term}${' '.repeat(indent - stringWidth(term))}${first}`.trimEnd(), ...described.slice(1));
    }
  });
  return lines;
}

/** A term wider than the screen: its later rows indented by 2, under its start but not at column 0. */
function wrappedTerm(term: string, width: number): string[] {
  const [first = '', ...rest] = wrapAnsi(term, Math.max(1, width), { hard: true, trim: true }).split('\n');
  return rest.length === 0 ? [first] : [first, ...wrapped(rest.join(' '), width - 2, 2)];
}

/** `text` wrapped at word boundaries in `width` columns, each line after `indent` spaces. */
function wrapped(text: string, width: number, indent: number): string[] {
  const pad = ' '.repeat(indent);
  return wrapAnsi(text, Math.max(1, width), { hard: true, trim: true })
    .split('\n')
    .map((line) => `${pad}${line}`.trimEnd());
}
