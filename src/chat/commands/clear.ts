// /clear: a clean screen; the conversation stays, and so does what the model sees.
import { noArgs } from './commandArgs.js';
import type { SlashCommand } from './slashCommand.js';

export const clearCommand: SlashCommand = {
  name: 'clear',
  aliases: [],
  args: '',
  description: 'clear the screen (the conversation stays)',
  run: (chat, raw) => {
    if (noArgs(chat, 'clear', raw)) chat.reprint([]);
  },
};
