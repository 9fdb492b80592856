// /file PATH [question]: a text file's content goes into a message, with the question after it.
import { submitFile } from '../files/fileMessages.js';
import { parseFileArgs } from '../files/fileMentions.js';
import type { SlashCommand } from './slashCommand.js';

export const fileCommand: SlashCommand = {
  name: 'file',
  aliases: [],
  args: 'PATH [question]',
  description: 'send a text file (and a question about it) as your message; @PATH in a message does the same',
  completes: 'path',
  run: async (chat, raw) => {
    const parsed = parseFileArgs(raw);
    if (parsed === null) return chat.view.notice('usage: /file PATH [question]', 'error');
    await submitFile(chat, parsed.path, parsed.question, `/file ${raw.trim()}`);
  },
};
