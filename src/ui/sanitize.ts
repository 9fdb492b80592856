// Model output and session files are untrusted: an escape sequence in them could retitle
// the window, plant a hyperlink, move the cursor or clear the screen. Everything shown in
// the transcript goes through here first.
import stripAnsi from 'strip-ansi';

// C0 controls except \t (0x09) and \n (0x0a), DEL, and the C1 range. Lone ESC and the
// introducers of unterminated sequences that strip-ansi leaves behind fall in here too.
const CONTROL_CHARS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** Removes terminal escape sequences and control characters, keeping newlines and tabs. */
export function sanitizeForTerminal(text: string): string {
  // \r would return the cursor to the line start and let later text overwrite earlier text.
  const unifiedNewlines = text.replace(/\r\n?/g, '\n');
  return stripAnsi(unifiedNewlines).replace(CONTROL_CHARS, '');
}
