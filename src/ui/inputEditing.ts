// The input box's text and cursor, and every edit a key can make, as pure functions.
// The cursor is a UTF-16 index; moves and deletions step over whole code points so an
// emoji is never split in half.

export interface EditorState {
  text: string;
  cursor: number;
}

export type EditAction =
  | { type: 'insert'; text: string }
  | { type: 'left' }
  | { type: 'right' }
  | { type: 'wordLeft' }
  | { type: 'wordRight' }
  | { type: 'lineStart' }
  | { type: 'lineEnd' }
  | { type: 'backspace' }
  | { type: 'delete' }
  | { type: 'deleteWordBefore' }
  | { type: 'deleteToLineStart' }
  | { type: 'replace'; text: string };

export const EMPTY_EDITOR: EditorState = { text: '', cursor: 0 };

export function editorWith(text: string): EditorState {
  return { text, cursor: text.length };
}

const isLowSurrogate = (code: number): boolean => code >= 0xdc00 && code <= 0xdfff;

function previousBoundary(text: string, index: number): number {
  if (index <= 0) return 0;
  return index >= 2 && isLowSurrogate(text.charCodeAt(index - 1)) ? index - 2 : index - 1;
}

function nextBoundary(text: string, index: number): number {
  if (index >= text.length) return text.length;
  return isLowSurrogate(text.charCodeAt(index + 1)) ? index + 2 : index + 1;
}

function lineStartOf(text: string, index: number): number {
  return text.lastIndexOf('\n', index - 1) + 1;
}

function lineEndOf(text: string, index: number): number {
  const end = text.indexOf('\n', index);
  return end === -1 ? text.length : end;
}

const isWordChar = (ch: string): boolean => /\S/.test(ch);

// Like readline: skip the blanks before the cursor, then the word before them.
function wordStartBefore(text: string, index: number): number {
  let i = index;
  while (i > 0 && !isWordChar(text[i - 1] ?? '')) i--;
  while (i > 0 && isWordChar(text[i - 1] ?? '')) i--;
  return i;
}

function wordEndAfter(text: string, index: number): number {
  let i = index;
  while (i < text.length && !isWordChar(text[i] ?? '')) i++;
  while (i < text.length && isWordChar(text[i] ?? '')) i++;
  return i;
}

function cut(state: EditorState, from: number, to: number): EditorState {
  return { text: state.text.slice(0, from) + state.text.slice(to), cursor: from };
}

export function applyEdit(state: EditorState, action: EditAction): EditorState {
  const { text, cursor } = state;
  switch (action.type) {
    case 'insert':
      return { text: text.slice(0, cursor) + action.text + text.slice(cursor), cursor: cursor + action.text.length };
    case 'left':
      return { text, cursor: previousBoundary(text, cursor) };
    case 'right':
      return { text, cursor: nextBoundary(text, cursor) };
    case 'wordLeft':
      return { text, cursor: wordStartBefore(text, cursor) };
    case 'wordRight':
      return { text, cursor: wordEndAfter(text, cursor) };
    case 'lineStart':
      return { text, cursor: lineStartOf(text, cursor) };
    case 'lineEnd':
      return { text, cursor: lineEndOf(text, cursor) };
    case 'backspace':
      return cut(state, previousBoundary(text, cursor), cursor);
    case 'delete':
      return cut(state, cursor, nextBoundary(text, cursor));
    case 'deleteWordBefore':
      return cut(state, wordStartBefore(text, cursor), cursor);
    case 'deleteToLineStart': {
      const start = lineStartOf(text, cursor);
      // At the start of a continuation line, join it to the previous one instead of doing nothing.
      return cut(state, start === cursor ? previousBoundary(text, cursor) : start, cursor);
    }
    case 'replace':
      return editorWith(action.text);
  }
}

/**
 * Moves the cursor one line up or down inside multi-line text, keeping its column where
 * possible. Returns null on the first (or last) line, where ↑/↓ walk the history instead.
 */
export function moveVertically(state: EditorState, direction: -1 | 1): EditorState | null {
  const { text, cursor } = state;
  const start = lineStartOf(text, cursor);
  const column = cursor - start;
  if (direction === -1) {
    if (start === 0) return null;
    const previousStart = lineStartOf(text, start - 1);
    return { text, cursor: Math.min(previousStart + column, start - 1) };
  }
  const end = lineEndOf(text, cursor);
  if (end === text.length) return null;
  const nextStart = end + 1;
  return { text, cursor: Math.min(nextStart + column, lineEndOf(text, nextStart)) };
}
