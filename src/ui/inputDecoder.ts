// Turns raw terminal input into the events the input box understands. Ink's own useInput
// cannot be used: it reports Backspace (0x7f) as Delete, has no bracketed paste, and loses
// Alt+Enter. Ink already splits stdin into escape sequences and runs of plain text; this
// module gives them meaning, and collects everything between the bracketed-paste markers
// into one paste event so a pasted block with newlines stays one message.

export type KeyName =
  | 'enter'
  | 'newline'
  | 'escape'
  | 'tab'
  | 'up'
  | 'down'
  | 'left'
  | 'right'
  | 'wordLeft'
  | 'wordRight'
  | 'home'
  | 'end'
  | 'backspace'
  | 'delete'
  | 'deleteWordBefore'
  | 'deleteToLineStart'
  | 'ctrlC'
  | 'ctrlD'
  | 'ctrlL'
  /** Ctrl+E: the end of the line, and after Ctrl+X the external editor. */
  | 'ctrlE'
  | 'ctrlX';

export type InputEvent = { kind: 'text'; text: string } | { kind: 'paste'; text: string } | { kind: 'key'; key: KeyName };

export const PASTE_START = '\u001b[200~';
export const PASTE_END = '\u001b[201~';

const CONTROL_KEYS: Record<string, KeyName> = {
  '\r': 'enter',
  // Ctrl+J, and what many terminals send for Shift+Enter.
  '\n': 'newline',
  '\t': 'tab',
  '\u007f': 'backspace',
  '\b': 'backspace',
  '\u0001': 'home',
  '\u0005': 'ctrlE',
  '\u0002': 'left',
  '\u0006': 'right',
  '\u0017': 'deleteWordBefore',
  '\u0015': 'deleteToLineStart',
  '\u0003': 'ctrlC',
  '\u0004': 'ctrlD',
  '\u000c': 'ctrlL',
  '\u0018': 'ctrlX',
};

const ESCAPE_KEYS: Record<string, KeyName> = {
  '\u001b': 'escape',
  '\u001b\r': 'newline',
  '\u001b\n': 'newline',
  '\u001b\u007f': 'deleteWordBefore',
  '\u001bb': 'wordLeft',
  '\u001bf': 'wordRight',
  '\u001b[A': 'up',
  '\u001b[B': 'down',
  '\u001b[C': 'right',
  '\u001b[D': 'left',
  '\u001bOA': 'up',
  '\u001bOB': 'down',
  '\u001bOC': 'right',
  '\u001bOD': 'left',
  '\u001b[H': 'home',
  '\u001b[F': 'end',
  '\u001bOH': 'home',
  '\u001bOF': 'end',
  '\u001b[1~': 'home',
  '\u001b[4~': 'end',
  '\u001b[7~': 'home',
  '\u001b[8~': 'end',
  '\u001b[3~': 'delete',
};

// Arrows with a modifier (CSI 1;<mod>X): Ctrl or Alt + ←/→ jump words.
const MODIFIED_ARROW = /^\u001b\[1;(\d+)([ABCDHF])$/;
// Shift/Alt+Enter as sent with CSI u or xterm's modifyOtherKeys.
const MODIFIED_ENTER = /^\u001b\[(?:13;\d+u|27;\d+;13~)$/;

function decodeEscape(sequence: string): KeyName | null {
  const plain = ESCAPE_KEYS[sequence];
  if (plain) return plain;
  if (MODIFIED_ENTER.test(sequence)) return 'newline';
  const arrow = MODIFIED_ARROW.exec(sequence);
  if (arrow) {
    const final = arrow[2];
    if (final === 'C') return 'wordRight';
    if (final === 'D') return 'wordLeft';
    return decodeEscape(`\u001b[${final}`);
  }
  return null;
}

const normalizeNewlines = (text: string): string => text.replace(/\r\n?/g, '\n');

function decodePlain(text: string): InputEvent[] {
  // Nobody types a line break and more text after it within one read: a terminal without
  // bracketed paste delivered a paste, which must not be sent line by line. A line ending
  // in one Enter is still typing (fast typists, tmux send-keys).
  if (/[\r\n][\s\S]/.test(text) && /[^\r\n]/.test(text)) {
    return [{ kind: 'paste', text: normalizeNewlines(text) }];
  }
  const events: InputEvent[] = [];
  let run = '';
  for (const ch of text) {
    const key = CONTROL_KEYS[ch];
    if (key === undefined && ch >= ' ') {
      run += ch;
      continue;
    }
    if (run) events.push({ kind: 'text', text: run });
    run = '';
    if (key) events.push({ kind: 'key', key });
  }
  if (run) events.push({ kind: 'text', text: run });
  return events;
}

export interface InputDecoder {
  /** Feeds one chunk as Ink's input parser emits it. */
  push(chunk: string): InputEvent[];
}

export function createInputDecoder(): InputDecoder {
  let paste: string | null = null;
  return {
    push(chunk) {
      if (chunk === PASTE_START) {
        paste = '';
        return [];
      }
      if (chunk === PASTE_END) {
        const text = paste ?? '';
        paste = null;
        return text ? [{ kind: 'paste', text: normalizeNewlines(text) }] : [];
      }
      if (paste !== null) {
        // Escape sequences inside a paste are dropped: they are not text.
        if (!chunk.startsWith('\u001b')) paste += chunk;
        return [];
      }
      if (chunk.startsWith('\u001b')) {
        const key = decodeEscape(chunk);
        return key ? [{ kind: 'key', key }] : [];
      }
      return decodePlain(chunk);
    },
  };
}
