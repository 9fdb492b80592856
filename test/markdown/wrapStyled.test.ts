// Wrapping styled text: greedy at words, long words cut, styles closed and reopened at
// breaks, wide characters measured as the terminal shows them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import stringWidth from 'string-width';
import wrapAnsi from 'wrap-ansi';
import { wrapStyled } from '../../src/markdown/wrapStyled.js';

test('greedy word wrap, spaces at breaks dropped, long words cut', () => {
  assert.deepEqual(wrapStyled('alpha beta gamma delta', 11), ['alpha beta', 'gamma delta']);
  assert.deepEqual(wrapStyled('abcdefghijkl mn', 5), ['abcde', 'fghij', 'kl mn']);
  assert.deepEqual(wrapStyled('a  b', 10), ['a  b']);
  assert.deepEqual(wrapStyled('', 10), ['']);
  assert.deepEqual(wrapStyled('x\ny', 10), ['x', 'y']);
});

test('a style across a break is closed at the end of the line and reopened on the next', () => {
  assert.deepEqual(wrapStyled('\u001b[1mone two\u001b[22m three', 5), ['\u001b[1mone\u001b[22m', '\u001b[1mtwo\u001b[22m', 'three']);
  assert.deepEqual(wrapStyled('\u001b[33mabcdef\u001b[39m', 3, false), ['\u001b[33mabc\u001b[39m', '\u001b[33mdef\u001b[39m']);
});

test('wide and combining characters are measured by their columns', () => {
  assert.deepEqual(wrapStyled('日本語 テキスト', 6), ['日本語', 'テキス', 'ト']);
  assert.deepEqual(wrapStyled('e\u0301e\u0301 ab', 4), ['e\u0301e\u0301 ab'.slice(0, 4), 'ab']);
});

test('plain text wraps as wrap-ansi wraps it, and no line is wider than the width', () => {
  const word = fc.stringMatching(/^[a-z日é]{1,12}$/);
  fc.assert(
    fc.property(fc.array(word, { minLength: 1, maxLength: 30 }), fc.integer({ min: 2, max: 40 }), (words, width) => {
      const text = words.join(' ');
      const ours = wrapStyled(text, width);
      assert.deepEqual(ours, wrapAnsi(text, width, { hard: true, trim: true }).split('\n'));
      for (const line of ours) assert.ok(stringWidth(line) <= width);
    }),
  );
});
