// /stats: speed and token counts of the last reply and the session, and how the model runs.
import { noArgs } from './commandArgs.js';
import { formatStats } from './reports.js';
import type { SlashCommand } from './slashCommand.js';

export const statsCommand: SlashCommand = {
  name: 'stats',
  aliases: [],
  args: '',
  description: 'speed and token counts of the last reply and the session',
  run: (chat, raw) => {
    if (!noArgs(chat, 'stats', raw)) return;
    const model = chat.engine.model;
    chat.view.notice(formatStats(chat.keeper.session.conversation, model?.graph, model?.threading));
  },
};
