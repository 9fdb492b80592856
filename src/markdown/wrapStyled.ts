// Wrapping of text styled with SGR sequences, for the Markdown view. wrap-ansi does the same
// but measures every character through string-width, which made wrapping most of the UI
// thread's time while a reply streamed; here plain ASCII is measured by counting, and only
// other text goes through string-width, one grapheme at a time (cached). A style open at a
// line break is closed at the end of the line and opened again at the start of the next.
import stringWidth from 'string-width';

type Piece = { sgr: string } | { text: string; width: number };

const SGR = /\u001b\[[0-9;]*m/y;
// Runs of printable ASCII (one column each) and of anything else (measured by grapheme).
const RUNS = /[\u0020-\u007e]+|[^\u0020-\u007e]+/g;
const segmenter = new Intl.Segmenter();
const widths = new Map<string, number>();

function graphemeWidth(grapheme: string): number {
  let width = widths.get(grapheme);
  if (width === undefined) {
    width = stringWidth(grapheme);
    if (widths.size < 10_000) widths.set(grapheme, width);
  }
  return width;
}

/** The text as SGR sequences and single graphemes with their widths. */
function pieces(text: string): Piece[] {
  const out: Piece[] = [];
  let plain = '';
  const flush = (): void => {
    if (plain === '') return;
    for (const [run] of plain.matchAll(RUNS)) {
      const code = run.charCodeAt(0);
      if (code >= 0x20 && code <= 0x7e) for (const ch of run) out.push({ text: ch, width: 1 });
      else for (const { segment } of segmenter.segment(run)) out.push({ text: segment, width: graphemeWidth(segment) });
    }
    plain = '';
  };
  let at = 0;
  while (at < text.length) {
    if (text.charCodeAt(at) === 0x1b) {
      SGR.lastIndex = at;
      const match = SGR.exec(text);
      if (match) {
        flush();
        out.push({ sgr: match[0] });
        at += match[0].length;
        continue;
      }
    }
    plain += text[at];
    at++;
  }
  flush();
  return out;
}

/** The SGR codes in effect, to close at a line's end and reopen on the next line. */
class StyleState {
  private open: string[] = [];

  apply(sgr: string): void {
    for (const code of sgr.slice(2, -1).split(';')) {
      const n = Number(code || '0');
      if (n === 0) this.open = [];
      else if (n === 22) this.open = this.open.filter((c) => c !== '1' && c !== '2');
      else if (n === 23 || n === 24 || n === 29) this.open = this.open.filter((c) => Number(c) !== n - 20);
      else if (n === 39) this.open = this.open.filter((c) => !isColor(Number(c)));
      else this.open.push(String(n));
    }
  }

  opening(): string {
    return this.open.map((c) => `\u001b[${c}m`).join('');
  }

  closing(): string {
    const closers = new Set(this.open.map((c) => (isColor(Number(c)) ? 39 : Number(c) <= 2 ? 22 : Number(c) + 20)));
    return [...closers].map((c) => `\u001b[${c}m`).join('');
  }
}

const isColor = (n: number): boolean => (n >= 30 && n <= 37) || (n >= 90 && n <= 97);

/**
 * Word-wraps `text` to `width` columns (greedy, as wrap-ansi's hard mode with trim):
 * spaces at a break are dropped, a word longer than a line is broken inside.
 * With `words: false` every line is simply cut at the width, spaces kept (code).
 */
export function wrapStyled(text: string, width: number, words = true): string[] {
  const lines: string[] = [];
  const state = new StyleState();
  for (const logical of text.split('\n')) {
    const out = words ? wrapWords(pieces(logical), Math.max(1, width)) : cutLine(pieces(logical), Math.max(1, width));
    for (const line of out) {
      let s = state.opening();
      for (const piece of line) {
        if ('sgr' in piece) state.apply(piece.sgr);
        s += 'sgr' in piece ? piece.sgr : piece.text;
      }
      lines.push(s + state.closing());
    }
  }
  return lines.map(dropEmptyStyles);
}

/** A style opened and closed with nothing between (at a break) is left out. */
function dropEmptyStyles(line: string): string {
  let previous = '';
  let current = line;
  while (previous !== current) {
    previous = current;
    current = current.replace(/\u001b\[(\d+)m\u001b\[(\d+)m/g, (both, open: string, close: string) =>
      closes(Number(open), Number(close)) ? '' : both,
    );
  }
  return current;
}

function closes(open: number, close: number): boolean {
  if (isColor(open)) return close === 39;
  if (open === 1 || open === 2) return close === 22;
  return close === open + 20;
}

/** Cuts at the width; the first line has `used` columns taken already. */
function cutLine(items: Piece[], width: number, used = 0): Piece[][] {
  const lines: Piece[][] = [[]];
  for (const piece of items) {
    if ('text' in piece && used + piece.width > width && used > 0) {
      lines.push([]);
      used = 0;
    }
    lines.at(-1)!.push(piece);
    if ('text' in piece) used += piece.width;
  }
  return lines;
}

function wrapWords(items: Piece[], width: number): Piece[][] {
  // Words (with the styles inside and around them) and the spaces before each.
  const words: { word: Piece[]; width: number; spaces: number }[] = [];
  let word: Piece[] = [];
  let wordWidth = 0;
  let spaces = 0;
  let pendingStyles: Piece[] = [];
  for (const piece of items) {
    if ('text' in piece && piece.text === ' ') {
      if (word.length > 0 && wordWidth > 0) {
        words.push({ word, width: wordWidth, spaces });
        word = [];
        wordWidth = 0;
        spaces = 0;
      } else if (word.length > 0) pendingStyles.push(...word.splice(0));
      spaces++;
      continue;
    }
    if (pendingStyles.length > 0) {
      word.push(...pendingStyles);
      pendingStyles = [];
    }
    word.push(piece);
    if ('text' in piece) wordWidth += piece.width;
  }
  word.push(...pendingStyles);
  if (word.length > 0) words.push({ word, width: wordWidth, spaces });

  const lines: Piece[][] = [[]];
  let used = 0;
  for (const w of words) {
    const line = lines.at(-1)!;
    if (used > 0 && used + w.spaces + w.width <= width) {
      for (let i = 0; i < w.spaces; i++) line.push({ text: ' ', width: 1 });
      line.push(...w.word);
      used += w.spaces + w.width;
      continue;
    }
    // A word longer than a line is cut, starting on this line unless the next saves a cut.
    const room = width - used - w.spaces;
    const cutsHere = 1 + Math.floor((w.width - room - 1) / width);
    const cutsNext = Math.floor((w.width - 1) / width);
    if (used > 0 && (w.width <= width || room <= 0 || cutsNext < cutsHere)) {
      lines.push([]);
      used = 0;
    } else if (used > 0) {
      for (let i = 0; i < w.spaces; i++) line.push({ text: ' ', width: 1 });
      used += w.spaces;
    }
    const cut = cutLine(w.word, width, used);
    lines.at(-1)!.push(...cut[0]!);
    for (const rest of cut.slice(1)) lines.push([...rest]);
    used = (cut.length === 1 ? used : 0) + cut.at(-1)!.reduce((sum, p) => sum + ('text' in p ? p.width : 0), 0);
  }
  return lines.map(trimEnd);
}

/** Spaces left at the end of a line by a word that did not fit after them. */
function trimEnd(line: Piece[]): Piece[] {
  for (let i = line.length - 1; i >= 0; i--) {
    const piece = line[i]!;
    if ('sgr' in piece) continue;
    if (piece.text !== ' ') break;
    line.splice(i, 1);
  }
  return line;
}
