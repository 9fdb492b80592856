// The model's text is untrusted: whatever it holds (ESC, CSI, OSC, BEL, C1 controls, inside
// code blocks and tables too), the only sequences on screen are the view's own styles.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderMarkdown } from '../../src/markdown/markdownBlocks.js';
import { MarkdownStream } from '../../src/markdown/markdownStream.js';
import { OWN_SEQUENCE, styler } from '../../src/markdown/markdownStyle.js';
import { cleanText, createTextCleaner } from '../../src/text/terminalText.js';

const HOSTILE = [
  '\u001b]0;pwned title\u0007',
  '\u001b]8;;https://evil.example/\u001b\\click\u001b]8;;\u001b\\',
  '\u001b[2J\u001b[H',
  '\u009b31m',
  '\u009d0;c1 title\u009c',
  '\u0007bell',
  '\u001bPdcs\u001b\\',
  '\u0085\u008d\u0090',
];

const SAMPLE = (bad: string): string =>
  [
    `# Head ${bad}`,
    `text ${bad} **bold ${bad}** \`code ${bad}\` [l${bad}](https://x.y/${bad})`,
    `- item ${bad}`,
    `> quote ${bad}`,
    '```js',
    `const a = "${bad}"; // ${bad}`,
    '```',
    '| a | b |',
    '|---|---|',
    `| ${bad} | x${bad} |`,
  ].join('\n');

/** Every control character left once the view's own SGR styles are taken out. */
function foreignControls(lines: readonly string[]): string[] {
  return [...lines.join('\n').replace(OWN_SEQUENCE, '')]
    .filter((c) => /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/.test(c))
    .map((c) => c.charCodeAt(0).toString(16));
}

test('hostile text in every kind of block: only the view’s own SGR reaches the screen', () => {
  for (const bad of HOSTILE) {
    for (const colors of [true, false]) {
      const lines = renderMarkdown(cleanText(SAMPLE(bad), 'terminal'), { width: 50, styler: styler(colors) });
      assert.deepEqual(foreignControls(lines), [], JSON.stringify(bad));
      assert.ok(!lines.join('').includes('\u001b]'), 'no OSC');
    }
  }
});

test('streamed in pieces that split the sequences, the hostile text is removed whole as well', () => {
  for (const bad of HOSTILE) {
    const text = SAMPLE(bad);
    const cleaner = createTextCleaner('terminal');
    const stream = new MarkdownStream({ width: 50, styler: styler(true) });
    const seen: string[] = [];
    for (let i = 0; i < text.length; i += 2) {
      const frame = stream.push(cleaner.push(text.slice(i, i + 2)));
      seen.push(...frame.settled, ...frame.live);
    }
    stream.push(cleaner.end());
    seen.push(...stream.end());
    assert.deepEqual(foreignControls(seen), [], JSON.stringify(bad));
    assert.ok(!seen.join('').includes('pwned') || !seen.join('').includes('\u001b]0'), 'the title sequence is gone');
  }
});
