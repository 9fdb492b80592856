// /editor: compose the message in $EDITOR (as Ctrl+X Ctrl+E does); the screen runs the editor.
import { noArgs } from './commandArgs.js';
import type { SlashCommand } from './slashCommand.js';

export const editorCommand: SlashCommand = {
  name: 'editor',
  aliases: [],
  args: '',
  description: 'write the message in $EDITOR (also Ctrl+X Ctrl+E); it comes back to the input box',
  run: (chat, raw) => {
    if (!noArgs(chat, 'editor', raw)) return;
    chat.questions.openEditor();
  },
};
