import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { cleanText, createTextCleaner, outputModeFor, sanitizeForTerminal, type OutputMode } from '../../src/text/terminalText.js';

test('keeps ordinary text, newlines, tabs and unicode', () => {
  assert.equal(sanitizeForTerminal('héllo\n\tworld 😀'), 'héllo\n\tworld 😀');
});

test('strips CSI, OSC (titles, hyperlinks), DCS, BEL and other controls', () => {
  const hostile = [
    'a\u001b[31mred\u001b[0m',
    '\u001b]0;pwned title\u0007',
    '\u001b]8;;https://evil.example\u001b\\link\u001b]8;;\u001b\\',
    '\u001bP+q544e\u001b\\',
    '\u001b[2J\u001b[H',
    'bell\u0007',
    'c1\u009b31m\u0085',
    'nul\u0000del\u007f',
  ].join('');
  assert.equal(sanitizeForTerminal(hostile), 'aredlinkbellc1nuldel');
});

test('carriage returns cannot overwrite earlier text', () => {
  assert.equal(sanitizeForTerminal('safe\rEVIL'), 'safe\nEVIL');
  assert.equal(sanitizeForTerminal('a\r\nb'), 'a\nb');
});

test('unterminated sequences lose their escape character', () => {
  assert.ok(!sanitizeForTerminal('x\u001b]0;title').includes('\u001b'));
  assert.ok(!sanitizeForTerminal('x\u001b').includes('\u001b'));
});

test('bidi overrides and isolates are shown, not applied', () => {
  const text = 'abc\u202eevil\u202c \u2066x\u2069';
  const shown = 'abc<U+202E>evil<U+202C> <U+2066>x<U+2069>';
  assert.equal(sanitizeForTerminal(text), shown);
  assert.equal(cleanText(text, 'text'), shown);
  assert.equal(cleanText(text, 'raw'), text);
});

test('text mode (a pipe): exact but for C0/C1 controls other than newline and tab', () => {
  assert.equal(cleanText('a\u001b[31mred\u001b[0m\r\n\tb\u0007\u0085', 'text'), 'a[31mred[0m\n\tb');
  assert.equal(cleanText('a\u001b[31mred', 'raw'), 'a\u001b[31mred');
});

test('the mode follows the stream and --raw', () => {
  assert.equal(outputModeFor({ isTTY: true }, false), 'terminal');
  assert.equal(outputModeFor({}, false), 'text');
  assert.equal(outputModeFor({ isTTY: true }, true), 'raw');
});

test('a sequence split across streamed pieces is removed whole', () => {
  const cleaner = createTextCleaner('terminal');
  const pieces = ['red \u001b', '[3', '1mRED\u001b]8;;http://x\u001b', '\\link\r', '\nend'];
  assert.equal(pieces.map((p) => cleaner.push(p)).join('') + cleaner.end(), 'red REDlink\nend');
  const open = createTextCleaner('terminal');
  assert.equal(open.push('stray \u001b]'), 'stray ');
  assert.equal(open.end(), ']', 'an unterminated sequence at the end loses only its ESC');
});

// Text built from the pieces that matter: plain text, controls, bidi characters and the
// starts, middles and ends of escape sequences.
const ATOMS = [
  'a',
  'Z',
  ' ',
  'é',
  '😀',
  '\n',
  '\t',
  '\r',
  '\u0000',
  '\u0007',
  '\u0018',
  '\u001b',
  '\u007f',
  '\u0085',
  '\u009b',
  '\u009c',
  '\u009d',
  '\u0090',
  '\u202e',
  '\u2069',
  '[',
  ']',
  '\\',
  ';',
  '0',
  '3',
  '1',
  'm',
  'P',
  'R',
  'k',
  '(',
  '#',
  '?',
  '8',
];
const hostileText = fc.array(fc.constantFrom(...ATOMS), { maxLength: 60 }).map((a) => a.join(''));
const plainText = fc
  .string({ unit: 'grapheme', maxLength: 80 })
  .filter((s) => !/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/.test(s));
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

test('property: no control character or live bidi character survives terminal or text mode', () => {
  fc.assert(
    fc.property(
      fc.oneof(hostileText, fc.string({ unit: 'binary', maxLength: 80 })),
      fc.constantFrom<OutputMode>('terminal', 'text'),
      (text, mode) => {
        assert.ok(!CONTROL.test(cleanText(text, mode)), JSON.stringify(cleanText(text, mode)));
      },
    ),
    { numRuns: 2000 },
  );
});

test('property: plain text goes through every mode unchanged, streamed or whole', () => {
  fc.assert(
    fc.property(plainText, fc.constantFrom<OutputMode>('terminal', 'text', 'raw'), (text, mode) => {
      assert.equal(cleanText(text, mode), text);
      const cleaner = createTextCleaner(mode);
      assert.equal([...text].map((c) => cleaner.push(c)).join('') + cleaner.end(), text);
    }),
    { numRuns: 1000 },
  );
});

test('property: however a text is cut into streamed pieces, the output is that of the whole text', () => {
  fc.assert(
    fc.property(
      hostileText,
      fc.array(fc.nat(60), { maxLength: 8 }),
      fc.constantFrom<OutputMode>('terminal', 'text'),
      (text, cuts, mode) => {
        const points = [...new Set(cuts.map((c) => Math.min(c, text.length)))].sort((a, b) => a - b);
        const pieces = [0, ...points].map((from, i) => text.slice(from, [...points, text.length][i]));
        const cleaner = createTextCleaner(mode);
        const streamed = pieces.map((p) => cleaner.push(p)).join('') + cleaner.end();
        assert.equal(streamed, cleanText(text, mode));
      },
    ),
    { numRuns: 3000 },
  );
});
