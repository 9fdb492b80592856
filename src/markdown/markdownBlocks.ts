// Block-level Markdown as screen lines for a width: headings, paragraphs, lists with hanging
// indents, block quotes, code, tables, rules. Pure: the same tokens and width give the same
// lines, which is what lets a streamed reply print its finished blocks once (markdownStream.ts).
import { Lexer, type Token, type Tokens } from 'marked';
import stringWidth from 'string-width';
import { codeBlockLines } from './codeBlock.js';
import { inlineText } from './inlineText.js';
import type { Styler } from './markdownStyle.js';
import { tableLines } from './tableBlock.js';
import { wrapStyled } from './wrapStyled.js';

export interface RenderOptions {
  /** Columns the lines may take. */
  width: number;
  styler: Styler;
}

/** Top-level blocks of `markdown`, with where each starts in it. */
export function lexBlocks(markdown: string): { token: Token; start: number }[] {
  const tokens = new Lexer({ gfm: true }).lex(markdown);
  const blocks: { token: Token; start: number }[] = [];
  let at = 0;
  for (const token of tokens) {
    if (token.type !== 'space' && token.type !== 'def') blocks.push({ token, start: at });
    at += token.raw.length;
  }
  return blocks;
}

/** A whole Markdown text as screen lines; blocks are separated by one empty line. */
export function renderMarkdown(markdown: string, options: RenderOptions): string[] {
  const lines: string[] = [];
  for (const { token } of lexBlocks(markdown)) {
    if (lines.length > 0) lines.push('');
    lines.push(...blockLines(token, options));
  }
  return lines;
}

/** One block's screen lines. */
export function blockLines(token: Token, options: RenderOptions): string[] {
  const { width, styler: s } = options;
  switch (token.type) {
    case 'heading': {
      const heading = token as Tokens.Heading;
      const text = inlineText(heading.tokens, s);
      const styled = heading.depth === 1 ? s.underline(s.bold(text)) : heading.depth === 2 ? s.bold(text) : s.bold(s.italic(text));
      return wrap(s.color('cyan', styled), width);
    }
    case 'paragraph':
    case 'text': {
      const block = token as Tokens.Paragraph | Tokens.Text;
      return wrap(block.tokens ? inlineText(block.tokens, s) : block.text.replace(/\t/g, ' '), width);
    }
    case 'code': {
      const code = token as Tokens.Code;
      return codeBlockLines(code.text, code.lang ?? '', width, s);
    }
    case 'list':
      return (token as Tokens.List).items.flatMap((item, i) => listItemLines(token as Tokens.List, item, i, options));
    case 'blockquote': {
      const quote = token as Tokens.Blockquote;
      const inner = blocksLines(quote.tokens, { ...options, width: Math.max(1, width - 2) }, true);
      return inner.map((line) => s.color('gray', '│') + ' ' + s.italic(line));
    }
    case 'table':
      return tableLines(token as Tokens.Table, width, s);
    case 'hr':
      return [s.color('gray', '─'.repeat(Math.max(1, Math.min(width, 40))))];
    case 'html':
      return wrap((token as Tokens.HTML).text.replace(/\t/g, ' ').replace(/\n+$/, ''), width);
    case 'space':
    case 'def':
    case 'checkbox':
      return [];
    default:
      return wrap(token.raw.replace(/\t/g, ' ').replace(/\n+$/, ''), width);
  }
}

/** Blocks inside a list item or quote; `gaps` puts an empty line between them. */
function blocksLines(tokens: readonly Token[], options: RenderOptions, gaps: boolean): string[] {
  const lines: string[] = [];
  for (const token of tokens) {
    const block = blockLines(token, options);
    if (block.length === 0) continue;
    if (gaps && lines.length > 0) lines.push('');
    lines.push(...block);
  }
  return lines;
}

/**
 * One list item: its marker, then its blocks indented under the marker's text (a hanging
 * indent). An item's lines depend on nothing after it, so a list's finished items can be
 * printed while the next is written; loose lists are therefore shown as tight ones.
 */
export function listItemLines(list: Tokens.List, item: Tokens.ListItem, index: number, options: RenderOptions): string[] {
  const { width, styler: s } = options;
  const start = typeof list.start === 'number' ? list.start : 1;
  const bullet = list.ordered ? `${start + index}.` : '•';
  const box = item.task ? (item.checked ? '[x] ' : '[ ] ') : '';
  const marker = `${bullet} ${box}`;
  const indent = stringWidth(marker);
  const inner = blocksLines(item.tokens, { ...options, width: Math.max(1, width - indent) }, false);
  if (inner.length === 0) inner.push('');
  return inner.map((line, i) => (i === 0 ? s.color('cyan', bullet) + ' ' + box : ' '.repeat(indent)) + line);
}

/** Word-wraps styled text to `width` columns; a line that has no room breaks inside words. */
export function wrap(text: string, width: number): string[] {
  if (text === '') return [''];
  return wrapStyled(text, width);
}
