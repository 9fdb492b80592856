// /sessions: the saved sessions, the one in use marked.
import { noArgs } from './commandArgs.js';
import { formatSessionList } from './reports.js';
import type { SlashCommand } from './slashCommand.js';

export const sessionsCommand: SlashCommand = {
  name: 'sessions',
  aliases: [],
  args: '',
  description: 'list saved sessions',
  run: async (chat, raw) => {
    if (!noArgs(chat, 'sessions', raw)) return;
    chat.view.notice(formatSessionList(await chat.store.list(), chat.keeper.session.name, chat.store.dir, chat.now()));
  },
};
