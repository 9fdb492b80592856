// Text from a model, a session file or the network is untrusted: an escape sequence in it
// could retitle the window, plant a hyperlink, move the cursor or clear the screen, and a
// bidi override could make text read differently from what it is. Everything Parley shows
// or prints goes through here, in one of three modes:
// - terminal: escape sequences removed whole, other controls dropped except \n and \t,
//   \r turned into \n (it would let later text overwrite earlier text); what the chat UI
//   shows and what one-shot mode prints to a terminal;
// - text: exact, except C0/C1 controls other than \n and \t, which are dropped (a pipe or
//   a file: the bytes of a sequence's parameters stay, harmless without their ESC);
// - raw: exactly as it is (`--raw`).
// In terminal and text modes the bidi embedding, override and isolate characters
// (U+202A–202E, U+2066–2069) are shown as `<U+202E>` instead of taking effect.
import ansiRegex from 'ansi-regex';

export type OutputMode = 'terminal' | 'text' | 'raw';

/** terminal for a TTY, text for a pipe or file, raw when asked for. */
export function outputModeFor(stream: { isTTY?: boolean }, raw: boolean): OutputMode {
  if (raw) return 'raw';
  return stream.isTTY === true ? 'terminal' : 'text';
}

// C0 controls except \t (0x09) and \n (0x0a), DEL, and the C1 range.
const CONTROL_CHARS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
const BIDI_CONTROLS = /[\u202a-\u202e\u2066-\u2069]/g;

function showBidiInert(text: string): string {
  return text.replace(BIDI_CONTROLS, (c) => `<U+${c.charCodeAt(0).toString(16).toUpperCase()}>`);
}

/** The terminal mode, for text that is complete. */
export function sanitizeForTerminal(text: string): string {
  return cleanText(text, 'terminal');
}

export function cleanText(text: string, mode: OutputMode): string {
  if (mode === 'raw') return text;
  if (mode === 'text') return showBidiInert(text.replace(CONTROL_CHARS, ''));
  return finishTerminal(removeSequences(text, true).out);
}

function finishTerminal(text: string): string {
  return showBidiInert(text.replace(/\r\n?/g, '\n').replace(CONTROL_CHARS, ''));
}

export interface TextCleaner {
  /** The cleaned text that can be written now; an unfinished escape sequence waits. */
  push(text: string): string;
  /** What was held back, cleaned: the text has ended. */
  end(): string;
}

/**
 * Cleans text that arrives in pieces (a streamed reply), so that a sequence split across
 * pieces is removed whole: everything written adds up to cleanText() of the whole text.
 */
export function createTextCleaner(mode: OutputMode): TextCleaner {
  if (mode !== 'terminal') return { push: (text) => cleanText(text, mode), end: () => '' };
  let pending = '';
  // Sequence-free text that ends in \r: a \n may follow, and \r\n is one line end.
  let carriageReturn = false;
  const emit = (text: string, final: boolean): string => {
    let body = (carriageReturn ? '\r' : '') + text;
    carriageReturn = !final && body.endsWith('\r');
    if (carriageReturn) body = body.slice(0, -1);
    return finishTerminal(body);
  };
  return {
    push(text) {
      const { out, held } = removeSequences(pending + text, false);
      pending = held;
      return emit(out, false);
    },
    end() {
      const { out } = removeSequences(pending, true);
      pending = '';
      return emit(out, true);
    },
  };
}

// One escape sequence (ECMA-48: CSI, OSC, DCS/SOS/PM/APC strings, two-byte escapes) at the
// position the search starts from.
const SEQUENCE = new RegExp(ansiRegex().source, 'y');
// Every sequence starts with ESC or one of these C1 introducers.
const INTRODUCER = /[\u001b\u0090\u0098\u009b\u009d\u009e\u009f]/g;
// A start of a sequence that more text could still complete (or turn into a longer one).
const UNFINISHED = [
  /^\u001b[\u0020-\u002f]*$/,
  /^(?:\u001b\[|\u009b)[\u0030-\u003f]*[\u0020-\u002f]*$/,
  /^(?:\u001b\]|\u009d)[^\u0007\u0018\u001a\u001b\u0080-\u009f]*\u001b?$/,
  /^(?:\u001b[PX^_k]|[\u0090\u0098\u009e\u009f])[^\u0018\u001a\u001b\u0080-\u009f]*\u001b?$/,
];
// A sequence still open after this many characters is taken for noise, not waited for:
// a stray "ESC ]" must not hold back the rest of a reply.
const HOLD_LIMIT = 256;

/**
 * The text without its escape sequences; an introducer that starts none is left for the
 * control filter. Unless `final`, a sequence that may be unfinished at the end is returned
 * in `held` instead.
 */
function removeSequences(text: string, final: boolean): { out: string; held: string } {
  let out = '';
  let from = 0;
  INTRODUCER.lastIndex = 0;
  for (let match = INTRODUCER.exec(text); match !== null; match = INTRODUCER.exec(text)) {
    const at = match.index;
    SEQUENCE.lastIndex = at;
    const sequence = SEQUENCE.exec(text);
    const end = sequence === null ? at : at + sequence[0].length;
    if (!final && text.length - at <= HOLD_LIMIT) {
      const rest = text.slice(at);
      if (end === text.length || UNFINISHED.some((p) => p.test(rest))) return { out: out + text.slice(from, at), held: rest };
    }
    if (sequence === null) continue;
    out += text.slice(from, at);
    from = end;
    INTRODUCER.lastIndex = end;
  }
  return { out: out + text.slice(from), held: '' };
}
