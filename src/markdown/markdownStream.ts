// A reply streamed as Markdown. What is final is printed once and never redrawn; only the
// block still being written is drawn again as text arrives. A block is final when the next
// one has begun (Markdown cannot change a block once a later one started), or earlier for
// the parts of a long block that can no longer change: a closed code fence, the finished
// lines of an open one, a list's items but the last, and the full lines of a long paragraph
// whose inline markup is closed. The lines printed early are the lines the whole block
// renders to, so the reply reads the same as if it had been rendered at once.
import { Lexer, type Token, type Tokens } from 'marked';
import { blockLines, lexBlocks, listItemLines, type RenderOptions } from './markdownBlocks.js';
import { codeBlockLines } from './codeBlock.js';

export interface StreamFrame {
  /** Lines that are final, to print once, in order. */
  settled: string[];
  /** The lines of the block still open, drawn until replaced. */
  live: string[];
}

/** Paragraphs keep this many lines live; the full lines before them may settle. */
const PARAGRAPH_LIVE_LINES = 1;
/** A paragraph is cut when it has this many lines live: a cut costs several renders, so not every frame. */
const PARAGRAPH_CUT_AT = 3;
/**
 * A paragraph this long is cut even with a delimiter open (a stray `*` or `[` would otherwise
 * keep it all live, redrawn every frame and taller than the screen): if the delimiter does
 * close later, both halves show it as text. No text is lost or doubled either way.
 */
const PARAGRAPH_FORCE_AT = 8;

export class MarkdownStream {
  /** Cleaned text from the start of the open block on; earlier text is printed. */
  private source = '';
  /** Blocks begun on screen: each after the first starts with an empty line. */
  private blocksBegun = 0;
  /** Lines of the open block already printed (its empty line before it not counted). */
  private openPrinted = 0;
  /** The open block's empty line before it is printed (or it needs none). */
  private gapPrinted = false;
  /** Width of the open block once part of it is printed: its lines must stay its lines. */
  private openWidth: number | null = null;
  /** Lines the open paragraph had when a cut last failed: it is tried again once it has more. */
  private paragraphTried = 0;

  constructor(private options: RenderOptions) {}

  /** Applies from the next block on; the one partly printed keeps its width. */
  setWidth(width: number): void {
    this.options = { ...this.options, width: Math.max(1, width) };
  }

  /** `text` (already cleaned of the model's control sequences) arrived. */
  push(text: string): StreamFrame {
    this.source += text;
    const settled: string[] = [];
    const blocks = lexBlocks(this.source);
    const open = blocks.pop();
    for (const { token } of blocks) this.finish(token, settled);
    if (!open) {
      this.source = '';
      return { settled, live: [] };
    }
    this.source = this.source.slice(open.start);
    const live = this.grow(open.token, settled);
    return { settled, live };
  }

  /** The reply has ended: whatever is left, final. */
  end(): string[] {
    const settled: string[] = [];
    for (const { token } of lexBlocks(this.source)) this.finish(token, settled);
    this.source = '';
    return settled;
  }

  private render(): RenderOptions {
    return this.openWidth === null ? this.options : { ...this.options, width: this.openWidth };
  }

  /** Prints the rest of a block that is final. */
  private finish(token: Token, out: string[]): void {
    this.print(blockLines(token, this.render()), out);
    this.blocksBegun++;
    this.openPrinted = 0;
    this.gapPrinted = false;
    this.openWidth = null;
    this.paragraphTried = 0;
  }

  /** Prints `lines` of the open block beyond those printed, with its gap before the first. */
  private print(lines: readonly string[], out: string[]): void {
    if (lines.length <= this.openPrinted) return;
    if (!this.gapPrinted && this.blocksBegun > 0) out.push('');
    this.gapPrinted = true;
    out.push(...lines.slice(this.openPrinted));
    this.openPrinted = lines.length;
    this.openWidth ??= this.options.width;
  }

  /** The open block: prints what of it can no longer change, returns the rest to draw live. */
  private grow(token: Token, out: string[]): string[] {
    const options = this.render();
    if (token.type === 'code' && isClosedFence(token as Tokens.Code)) {
      this.finish(token, out);
      this.source = this.source.slice(token.raw.length);
      return [];
    }
    let lines: string[];
    if (token.type === 'paragraph') {
      lines = blockLines(token, options);
      if (this.settleParagraph(token as Tokens.Paragraph, lines, out))
        lines = blockLines(lexBlocks(this.source)[0]?.token ?? token, options);
    } else {
      const stable = stableLines(token, options);
      if (stable.length > 0) this.print(stable, out);
      lines = blockLines(token, options);
    }
    const gap = !this.gapPrinted && this.blocksBegun > 0 && lines.length > this.openPrinted ? [''] : [];
    return [...gap, ...lines.slice(this.openPrinted)];
  }

  /**
   * A long paragraph prints its full lines but the last few: the text up to a line break
   * that renders to exactly those lines is cut off, and the rest goes on as the same
   * paragraph. Only where the cut leaves no emphasis, code span or link open, and the rest
   * starts with a letter (so it cannot read as a list or heading on its own).
   */
  private settleParagraph(paragraph: Tokens.Paragraph, lines: readonly string[], out: string[]): boolean {
    const options = this.render();
    if (lines.length < PARAGRAPH_CUT_AT || lines.length <= this.paragraphTried) return false;
    this.paragraphTried = lines.length;
    const keep = lines.length - PARAGRAPH_LIVE_LINES;
    const raw = paragraph.raw;
    // No cut after a delimiter left as text, what it opens may close later; unless too long.
    const forced = lines.length >= PARAGRAPH_FORCE_AT;
    const limit = forced ? raw.length : openMarkupAt(paragraph);
    const cuts: number[] = [];
    for (const m of raw.matchAll(/\s+(?=\p{L})/gu)) if (m.index < limit) cuts.push(m.index);
    // The longest prefix that still renders to at most `keep` lines.
    let lo = 0;
    let hi = cuts.length - 1;
    let best = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (blockLines(asParagraph(raw.slice(0, cuts[mid])), options).length <= keep) {
        best = mid;
        lo = mid + 1;
      } else hi = mid - 1;
    }
    if (best < 0) return false;
    const prefix = asParagraph(raw.slice(0, cuts[best]));
    const prefixLines = blockLines(prefix, options);
    if (prefixLines.length !== keep || !prefixLines.every((line, i) => line === lines[i]) || (!forced && hasOpenMarkup(prefix.tokens)))
      return false;
    this.print(prefixLines, out);
    // The rest goes on as the same paragraph: no empty line before it.
    this.source = raw.slice(cuts[best]).trimStart() + this.source.slice(raw.length);
    this.openPrinted = 0;
    this.paragraphTried = 0;
    return true;
  }
}

/** Lines of an open block that no later text can change. */
function stableLines(token: Token, options: RenderOptions): string[] {
  if (token.type === 'list') {
    const list = token as Tokens.List;
    return list.items.slice(0, -1).flatMap((item, i) => listItemLines(list, item, i, options));
  }
  if (token.type === 'code') {
    const code = token as Tokens.Code;
    if (!code.raw.includes('\n') || !/^ {0,3}(`{3,}|~{3,})/.test(code.raw)) return [];
    // The code lines ended by a newline are complete; the one after the last is still written.
    const body = code.raw.slice(code.raw.indexOf('\n') + 1);
    const complete = body.split('\n').length - 1;
    const lines = codeBlockLines(code.text.split('\n').slice(0, complete).join('\n'), code.lang ?? '', options.width, options.styler);
    const label = code.lang?.trim() ? 1 : 0;
    return complete === 0 ? lines.slice(0, label) : lines;
  }
  return [];
}

/** A fenced block whose closing fence has been written. */
function isClosedFence(code: Tokens.Code): boolean {
  const open = /^ {0,3}(`{3,}|~{3,})/.exec(code.raw);
  if (!open) return false;
  const fence = open[1]!;
  const lines = code.raw.replace(/\n$/, '').split('\n');
  if (lines.length < 2) return false;
  const last = lines.at(-1)!.trim();
  return last.length >= fence.length && [...last].every((c) => c === fence[0]) && code.raw.endsWith('\n');
}

function asParagraph(text: string): Tokens.Paragraph {
  const token = new Lexer({ gfm: true }).lex(text).find((t) => t.type !== 'space');
  if (token?.type === 'paragraph') return token as Tokens.Paragraph;
  return { type: 'paragraph', raw: text, text, tokens: [{ type: 'text', raw: '[', text: '[' }] };
}

/** Where in the paragraph's text the first delimiter left as text is (its length when none). */
function openMarkupAt(paragraph: Tokens.Paragraph): number {
  let at = 0;
  for (const token of paragraph.tokens) {
    if (hasOpenMarkup([token])) return at;
    at += token.raw.length;
  }
  return paragraph.raw.length;
}

/** A delimiter left as text: the markup it would open may close after the cut. */
function hasOpenMarkup(tokens: readonly Token[] | undefined): boolean {
  return (tokens ?? []).some((t) => {
    if (t.type === 'text' && !(t as Tokens.Text).tokens) return /[*_`[~<]/.test((t as Tokens.Text).text);
    return 'tokens' in t && Array.isArray(t.tokens) ? hasOpenMarkup(t.tokens as Token[]) : false;
  });
}
