// The terminal's clipboard (OSC 52): `ESC ] 52 ; c ; BASE64 BEL` asks the terminal to put
// the text on the system clipboard, over ssh too. Inside tmux the sequence reaches tmux, which
// takes it for its own paste buffer (and the outer terminal) only with `set-clipboard on`; so
// there it is sent once more wrapped for tmux's passthrough, which reaches the outer terminal
// with `allow-passthrough on`. With both on, the outer terminal gets the same text twice.

/** The most text sent: terminals cap what they take (about 100 kB of base64 is widely accepted). */
export const MAX_CLIPBOARD_BYTES = 74_000;

export function clipboardSequence(text: string, inTmux: boolean): string {
  const osc = `\u001b]52;c;${Buffer.from(text, 'utf8').toString('base64')}\u0007`;
  if (!inTmux) return osc;
  // tmux passes a DCS `tmux;` sequence through, with every ESC in it doubled.
  return `${osc}\u001bPtmux;${osc.replace(/\u001b/g, '\u001b\u001b')}\u001b\\`;
}
