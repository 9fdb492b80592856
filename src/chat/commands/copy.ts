// /copy: the last reply onto the clipboard, through the terminal (OSC 52), so it works over
// ssh and in tmux (see text/osc52.ts for what tmux needs).
import { MAX_CLIPBOARD_BYTES } from '../../text/osc52.js';
import { sanitizeForTerminal } from '../../text/terminalText.js';
import { counted, formatBytes } from '../../text/format.js';
import { noArgs } from './commandArgs.js';
import type { SlashCommand } from './slashCommand.js';

export const copyCommand: SlashCommand = {
  name: 'copy',
  aliases: [],
  args: '',
  description: 'put the last reply on the clipboard (through the terminal, OSC 52)',
  run: (chat, raw) => {
    if (!noArgs(chat, 'copy', raw)) return;
    const reply = chat.keeper.session.conversation.turns.findLast((t) => t.role === 'assistant');
    if (!reply || reply.text === '') return chat.view.notice('No reply to copy yet.', 'error');
    // The model's text, without anything a terminal or an editor pasted into would act on.
    const text = sanitizeForTerminal(reply.text);
    const bytes = Buffer.byteLength(text, 'utf8');
    if (bytes > MAX_CLIPBOARD_BYTES) {
      return chat.view.notice(
        `The last reply is ${formatBytes(bytes)}, more than the ${formatBytes(MAX_CLIPBOARD_BYTES)} terminals take through OSC 52; /export writes it to a file.`,
        'error',
      );
    }
    const route = chat.copyToClipboard(text);
    if (route === null) return chat.view.notice('Cannot copy: Parley is not running in a terminal.', 'error');
    const what = `Copied the last reply (${counted([...text].length, 'character')}) to the clipboard through the terminal (OSC 52).`;
    chat.view.notice(
      route === 'tmux'
        ? `${what} In tmux this needs set -g set-clipboard on (or allow-passthrough on).`
        : `${what} Terminals that do not support OSC 52 ignore it.`,
    );
  },
};
