// The Markdown view as pure functions: Markdown in, screen lines out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import stringWidth from 'string-width';
import { renderMarkdown } from '../../src/markdown/markdownBlocks.js';
import { OWN_SEQUENCE, styler } from '../../src/markdown/markdownStyle.js';
import { fitColumns } from '../../src/markdown/tableBlock.js';

const plain = (lines: readonly string[]): string[] => lines.map((line) => line.replace(OWN_SEQUENCE, ''));
const render = (markdown: string, width = 60, colors = false): string[] => renderMarkdown(markdown, { width, styler: styler(colors) });

test('emphasis, strong, strike and code spans are styled, with their markers gone', () => {
  const [line] = render('a **bold** and *italic* and ~~gone~~ and `x`');
  assert.equal(line, 'a \u001b[1mbold\u001b[22m and \u001b[3mitalic\u001b[23m and \u001b[9mgone\u001b[29m and `x`');
  // With colour, a code span is coloured instead of keeping its backticks.
  assert.equal(render('`x`', 60, true)[0], '\u001b[33mx\u001b[39m');
});

test('headings are bold and lose their #; blocks are separated by one empty line', () => {
  assert.deepEqual(plain(render('# Title\n\n## Sub\ntext')), ['Title', '', 'Sub', '', 'text']);
  assert.match(render('# Title')[0]!, /\u001b\[1m/);
});

test('lists keep a hanging indent when an item wraps, and nest', () => {
  const lines = plain(render('- one two three four five six\n- b\n  - nested item here\n\n3. x\n4. y', 20));
  assert.deepEqual(lines, ['• one two three four', '  five six', '• b', '  • nested item here', '', '3. x', '4. y']);
});

test('task list items show their box', () => {
  assert.deepEqual(plain(render('- [x] done\n- [ ] todo')), ['• [x] done', '• [ ] todo']);
});

test('block quotes are marked on every line, wrapped inside the mark', () => {
  assert.deepEqual(plain(render('> quoted words that wrap', 12)), ['│ quoted', '│ words that', '│ wrap']);
});

test('fenced code has its language as a label, keeps its indentation, and is highlighted with colour', () => {
  const code = '```python\ndef f(x):\n\treturn "s"  # c\n```';
  assert.deepEqual(plain(render(code)), ['python', '  def f(x):', '      return "s"  # c']);
  const coloured = render(code, 60, true);
  assert.match(coloured[1]!, /\u001b\[35mdef\u001b\[39m/, 'the keyword is coloured');
  assert.match(coloured[2]!, /\u001b\[32m"s"\u001b\[39m/, 'the string is coloured');
  // An unknown language is labelled and left plain.
  assert.deepEqual(plain(render('```zzz\nq\n```', 60, true)), ['zzz', '  q']);
});

test('long code lines break at the width, not at words', () => {
  assert.deepEqual(plain(render('```\nabcdefghij\n```', 8)), ['  abcdef', '  ghij']);
});

test('tables are aligned as the delimiter row says', () => {
  const lines = plain(render('| Name | Qty | Price |\n|:--|:-:|--:|\n| apple | 3 | 1.20 |\n| banana split | 12 | 10.5 |'));
  assert.deepEqual(lines, [
    'Name         │ Qty │ Price',
    '─────────────┼─────┼──────',
    'apple        │  3  │  1.20',
    'banana split │ 12  │  10.5',
  ]);
});

test('a table wider than the screen shrinks its widest columns and wraps their cells', () => {
  const lines = plain(render('| a | b |\n|---|---|\n| short | a rather long cell of text |', 20));
  assert.ok(
    lines.every((line) => stringWidth(line) <= 20),
    lines.join('\n'),
  );
  assert.ok(lines.join(' ').includes('rather'), 'no text is lost');
  assert.deepEqual(fitColumns([5, 26], 17), [5, 12]);
});

test('links show their text and URL; bare URLs once; never as OSC 8 hyperlinks', () => {
  assert.deepEqual(plain(render('see [the docs](https://ex.com/d) or https://ex.com/e')), [
    'see the docs (https://ex.com/d) or https://ex.com/e',
  ]);
  assert.ok(!render('[x](https://a.b)', 60, true).join('').includes('\u001b]8'));
});

test('paragraphs wrap at words to the width', () => {
  const lines = render('alpha beta gamma delta epsilon zeta eta theta', 16);
  assert.deepEqual(lines, ['alpha beta gamma', 'delta epsilon', 'zeta eta theta']);
  for (const width of [10, 30, 57]) {
    const text = 'Some **bold words** and `code` in a [link](https://example.com/long/path) that wraps. '.repeat(4);
    for (const line of render(text, width, true)) assert.ok(stringWidth(line) <= width, `${JSON.stringify(line)} fits ${width}`);
  }
});
