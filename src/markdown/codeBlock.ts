// A fenced code block: a label with its language, then the code highlighted by highlight.js
// (through lowlight, which hands back a syntax tree rather than HTML), hard-wrapped to the width.
import type { Element, Root, RootContent } from 'hast';
import { common, createLowlight } from 'lowlight';
import type { ColorName, Styler } from './markdownStyle.js';
import { wrapStyled } from './wrapStyled.js';

const lowlight = createLowlight(common);

/** Columns code is indented by under its label. */
export const CODE_INDENT = 2;

// highlight.js scopes, by the colour they get; scopes not listed keep the text's colour.
const SCOPE_COLORS: Record<string, ColorName> = {
  keyword: 'magenta',
  built_in: 'cyan',
  type: 'cyan',
  literal: 'blue',
  number: 'blue',
  string: 'green',
  regexp: 'red',
  symbol: 'yellow',
  title: 'yellow',
  'title.function': 'yellow',
  'title.class': 'yellow',
  function: 'yellow',
  attr: 'cyan',
  attribute: 'cyan',
  variable: 'red',
  params: 'red',
  meta: 'gray',
  comment: 'gray',
  quote: 'gray',
  tag: 'blue',
  name: 'blue',
  'selector-tag': 'magenta',
  'selector-class': 'yellow',
  addition: 'green',
  deletion: 'red',
  section: 'cyan',
  bullet: 'yellow',
};

/** The language a fence names, if highlight.js knows it (`js`, `Python`, `c++` …). */
function knownLanguage(lang: string): string | null {
  const name = lang.trim().split(/\s+/)[0]?.toLowerCase() ?? '';
  return name !== '' && lowlight.registered(name) ? name : null;
}

/** Expands tabs to stops every 4 columns, per line: a tab's width depends on where it lands. */
function expandTabs(line: string): string {
  let out = '';
  for (const ch of line) out += ch === '\t' ? ' '.repeat(4 - (out.length % 4)) : ch;
  return out;
}

/** Screen lines of a code block `code` (without its fences) for `width` columns. */
export function codeBlockLines(code: string, lang: string, width: number, s: Styler): string[] {
  const label = lang.trim().split(/\s+/)[0] ?? '';
  const lines = label ? [s.color('gray', s.italic(label))] : [];
  const text = code.split('\n').map(expandTabs).join('\n');
  const language = s.colors ? knownLanguage(label) : null;
  const styled = language === null ? text : fromTree(lowlight.highlight(language, text), s);
  const inner = Math.max(1, width - CODE_INDENT);
  for (const line of styled.split('\n')) {
    const wrapped = line === '' ? [''] : wrapStyled(line, inner, false);
    for (const piece of wrapped) lines.push(' '.repeat(CODE_INDENT) + piece);
  }
  return lines;
}

function fromTree(tree: Root, s: Styler): string {
  return tree.children.map((node) => fromNode(node, s)).join('');
}

/** Each line of a span is styled on its own, so splitting the result at \n keeps styles whole. */
function fromNode(node: RootContent, s: Styler): string {
  if (node.type === 'text') return node.value;
  if (node.type !== 'element') return '';
  const inner = node.children.map((child) => fromNode(child, s)).join('');
  const color = colorOf(node);
  if (color === null) return inner;
  return inner
    .split('\n')
    .map((line) => s.color(color, line))
    .join('\n');
}

function colorOf(node: Element): ColorName | null {
  const classes = node.properties['className'];
  if (!Array.isArray(classes)) return null;
  for (const cls of classes) {
    const scope = String(cls).replace(/^hljs-/, '');
    const color = SCOPE_COLORS[scope] ?? SCOPE_COLORS[scope.split('.')[0] ?? ''];
    if (color) return color;
  }
  return null;
}
