// A reply streamed as Markdown: what is printed as final is exactly what the whole reply
// renders to, however the text was split, and the live part stays small.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { renderMarkdown } from '../../src/markdown/markdownBlocks.js';
import { MarkdownStream } from '../../src/markdown/markdownStream.js';
import { OWN_SEQUENCE, styler } from '../../src/markdown/markdownStyle.js';

const REPLY = [
  '# Plan',
  '',
  'Here is **the plan** for `today`, which is long enough to wrap across a few lines of the narrow test screen.',
  '',
  '1. First step',
  '2. Second step with *more* words in it',
  '   - a nested point',
  '3. Third',
  '',
  '> A quoted remark.',
  '',
  '```ts',
  'const x: number = 1;',
  'function f() {',
  '  return x * 2;',
  '}',
  '```',
  '',
  '| Col | Value |',
  '|-----|------:|',
  '| a   | 1     |',
  '| bb  | 22    |',
  '',
  'Done.',
].join('\n');

function streamed(text: string, cuts: readonly number[], width: number): { lines: string[]; maxLive: number } {
  const stream = new MarkdownStream({ width, styler: styler(true) });
  const lines: string[] = [];
  let maxLive = 0;
  let at = 0;
  for (const cut of [...cuts, text.length]) {
    const frame = stream.push(text.slice(at, cut));
    at = cut;
    lines.push(...frame.settled);
    maxLive = Math.max(maxLive, frame.live.length);
  }
  lines.push(...stream.end());
  return { lines, maxLive };
}

test('streamed token by token, the printed lines are those of the whole reply', () => {
  const cuts = Array.from({ length: REPLY.length }, (_, i) => i);
  assert.deepEqual(streamed(REPLY, cuts, 40).lines, renderMarkdown(REPLY, { width: 40, styler: styler(true) }));
});

test('however the reply is split, nothing is lost, doubled or redrawn differently', () => {
  fc.assert(
    fc.property(
      fc.uniqueArray(fc.integer({ min: 1, max: REPLY.length - 1 }), { maxLength: 60 }),
      fc.integer({ min: 12, max: 90 }),
      (cuts, width) => {
        const sorted = [...cuts].sort((a, b) => a - b);
        assert.deepEqual(streamed(REPLY, sorted, width).lines, renderMarkdown(REPLY, { width, styler: styler(true) }));
      },
    ),
    { numRuns: 150 },
  );
});

test('a long paragraph, a long list and a long code block print their finished lines as they go', () => {
  const paragraph = Array.from({ length: 120 }, (_, i) => `word${i}`).join(' ');
  const list = Array.from({ length: 30 }, (_, i) => `- item ${i}`).join('\n');
  const code = '```\n' + Array.from({ length: 40 }, (_, i) => `line ${i}`).join('\n') + '\n```';
  for (const text of [paragraph, list, code]) {
    const cuts = Array.from({ length: Math.floor(text.length / 3) }, (_, i) => i * 3);
    const { lines, maxLive } = streamed(text, cuts, 40);
    assert.deepEqual(lines, renderMarkdown(text, { width: 40, styler: styler(true) }));
    assert.ok(maxLive <= 5, `at most 5 live lines, saw ${maxLive}`);
  }
});

test('an emphasis still open keeps a paragraph live (the cut never splits markup) until it grows too long', () => {
  const text = '**' + Array.from({ length: 24 }, (_, i) => `w${i}`).join(' ') + '** tail';
  const cuts = Array.from({ length: text.length }, (_, i) => i);
  assert.deepEqual(streamed(text, cuts, 20).lines, renderMarkdown(text, { width: 20, styler: styler(true) }));
  // Longer, it is cut anyway: its live part stays short, and no word is lost or doubled.
  const long = '**' + Array.from({ length: 200 }, (_, i) => `w${i}`).join(' ') + '** tail';
  const { lines, maxLive } = streamed(
    long,
    Array.from({ length: long.length }, (_, i) => i),
    20,
  );
  assert.ok(maxLive <= 8, `at most 8 live lines, saw ${maxLive}`);
  const words = lines.join(' ').replace(OWN_SEQUENCE, '').split(/\s+/).filter(Boolean);
  assert.deepEqual(words, long.split(' '));
});

test('a width change applies from the next block; the block partly printed keeps its width', () => {
  const stream = new MarkdownStream({ width: 40, styler: styler(false) });
  const first = stream.push('```\na\nb\n');
  stream.setWidth(10);
  const rest = [...stream.push('c\n```\n\npara one two three\n\n').settled, ...stream.end()];
  assert.deepEqual([...first.settled, ...rest], ['  a', '  b', '  c', '', 'para one', 'two three']);
});
