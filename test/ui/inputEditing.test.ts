import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyEdit, moveVertically, type EditAction, type EditorState } from '../../src/ui/inputEditing.js';

const run = (state: EditorState, ...actions: EditAction[]): EditorState => actions.reduce(applyEdit, state);
const at = (text: string, cursor: number): EditorState => ({ text, cursor });

test('insert at the cursor and move left/right', () => {
  assert.deepEqual(run(at('hllo', 1), { type: 'insert', text: 'e' }), at('hello', 2));
  assert.deepEqual(run(at('abc', 3), { type: 'left' }, { type: 'left' }), at('abc', 1));
  assert.deepEqual(run(at('abc', 0), { type: 'left' }), at('abc', 0));
  assert.deepEqual(run(at('abc', 3), { type: 'right' }), at('abc', 3));
});

test('cursor steps over a whole emoji', () => {
  const text = 'a😀b';
  assert.deepEqual(run(at(text, 1), { type: 'right' }), at(text, 3));
  assert.deepEqual(run(at(text, 3), { type: 'left' }), at(text, 1));
  assert.deepEqual(run(at(text, 3), { type: 'backspace' }), at('ab', 1));
  assert.deepEqual(run(at(text, 1), { type: 'delete' }), at('ab', 1));
});

test('home and end work on the current line of multi-line text', () => {
  const text = 'one\ntwo three\nfour';
  assert.deepEqual(run(at(text, 6), { type: 'lineStart' }), at(text, 4));
  assert.deepEqual(run(at(text, 6), { type: 'lineEnd' }), at(text, 13));
  assert.deepEqual(run(at(text, 0), { type: 'lineEnd' }), at(text, 3));
});

test('backspace and delete', () => {
  assert.deepEqual(run(at('abc', 2), { type: 'backspace' }), at('ac', 1));
  assert.deepEqual(run(at('abc', 0), { type: 'backspace' }), at('abc', 0));
  assert.deepEqual(run(at('abc', 1), { type: 'delete' }), at('ac', 1));
  assert.deepEqual(run(at('abc', 3), { type: 'delete' }), at('abc', 3));
});

test('Ctrl+W deletes the word before the cursor and the blanks after it', () => {
  assert.deepEqual(run(at('hello big world', 15), { type: 'deleteWordBefore' }), at('hello big ', 10));
  assert.deepEqual(run(at('hello big   ', 12), { type: 'deleteWordBefore' }), at('hello ', 6));
  assert.deepEqual(run(at('hello world', 8), { type: 'deleteWordBefore' }), at('hello rld', 6));
});

test('Ctrl+U deletes to the start of the line, or joins lines at a line start', () => {
  assert.deepEqual(run(at('hello world', 6), { type: 'deleteToLineStart' }), at('world', 0));
  assert.deepEqual(run(at('a\nbc', 4), { type: 'deleteToLineStart' }), at('a\n', 2));
  assert.deepEqual(run(at('a\nbc', 2), { type: 'deleteToLineStart' }), at('abc', 1));
});

test('word jumps', () => {
  assert.deepEqual(run(at('one two three', 13), { type: 'wordLeft' }), at('one two three', 8));
  assert.deepEqual(run(at('one two three', 0), { type: 'wordRight' }), at('one two three', 3));
});

test('replace puts the cursor at the end', () => {
  assert.deepEqual(run(at('x', 0), { type: 'replace', text: 'abc' }), at('abc', 3));
});

test('vertical moves keep the column and report the edges', () => {
  const text = 'abcd\nef\nghij';
  assert.equal(moveVertically(at(text, 2), -1), null);
  assert.deepEqual(moveVertically(at(text, 3), 1), at(text, 7));
  assert.deepEqual(moveVertically(at(text, 12), -1), at(text, 7));
  assert.deepEqual(moveVertically(at(text, 6), -1), at(text, 1));
  assert.equal(moveVertically(at(text, 10), 1), null);
});
