import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createInputDecoder, PASTE_END, PASTE_START, type InputEvent } from '../../src/ui/inputDecoder.js';

const decode = (...chunks: string[]): InputEvent[] => {
  const decoder = createInputDecoder();
  return chunks.flatMap((c) => decoder.push(c));
};
const key = (name: string): InputEvent => ({ kind: 'key', key: name }) as InputEvent;

test('plain typing is text, control characters are keys', () => {
  assert.deepEqual(decode('hi'), [{ kind: 'text', text: 'hi' }]);
  assert.deepEqual(decode('\r'), [key('enter')]);
  assert.deepEqual(decode('\u007f'), [key('backspace')]);
  assert.deepEqual(decode('\u001b[3~'), [key('delete')]);
  assert.deepEqual(decode('\u0017', '\u0015', '\u0001', '\u0005', '\u0018'), [
    key('deleteWordBefore'),
    key('deleteToLineStart'),
    key('home'),
    key('ctrlE'),
    key('ctrlX'),
  ]);
  assert.deepEqual(decode('\u0003', '\u0004', '\u001b', '\t'), [key('ctrlC'), key('ctrlD'), key('escape'), key('tab')]);
  assert.deepEqual(decode('ab\u007fc'), [{ kind: 'text', text: 'ab' }, key('backspace'), { kind: 'text', text: 'c' }]);
});

test('arrows, home/end variants and modified keys', () => {
  assert.deepEqual(decode('\u001b[A', '\u001b[B', '\u001b[C', '\u001b[D'), [key('up'), key('down'), key('right'), key('left')]);
  assert.deepEqual(decode('\u001b[H', '\u001b[F', '\u001b[1~', '\u001b[4~', '\u001bOH'), [
    key('home'),
    key('end'),
    key('home'),
    key('end'),
    key('home'),
  ]);
  assert.deepEqual(decode('\u001b[1;5D', '\u001b[1;3C', '\u001bb'), [key('wordLeft'), key('wordRight'), key('wordLeft')]);
  assert.deepEqual(decode('\u001b\r', '\u001b[13;2u', '\n'), [key('newline'), key('newline'), key('newline')]);
  assert.deepEqual(decode('\u001b[Z'), []);
});

test('a bracketed paste is one event with its newlines, whatever the chunks', () => {
  assert.deepEqual(decode(PASTE_START, 'line one\r', 'line two\rthree', PASTE_END), [{ kind: 'paste', text: 'line one\nline two\nthree' }]);
  assert.deepEqual(decode(PASTE_START, 'a', '\u001b[31m', 'b', PASTE_END, 'c'), [
    { kind: 'paste', text: 'ab' },
    { kind: 'text', text: 'c' },
  ]);
});

test('an unbracketed multi-line chunk is taken as a paste, a typed line with Enter is not', () => {
  assert.deepEqual(decode('one\r\ntwo\n'), [{ kind: 'paste', text: 'one\ntwo\n' }]);
  assert.deepEqual(decode('hello there\r'), [{ kind: 'text', text: 'hello there' }, key('enter')]);
});
