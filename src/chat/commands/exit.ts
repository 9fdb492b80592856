// /exit: leave the chat the way Ctrl+D does (the screen closes it, saving on the way).
import type { SlashCommand } from './slashCommand.js';

export const exitCommand: SlashCommand = {
  name: 'exit',
  aliases: ['quit'],
  args: '',
  description: 'save and leave',
  run: (chat) => chat.view.update({ exitRequested: true }),
};
