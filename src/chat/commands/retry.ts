// /retry: a new reply in place of the last one (or to a message left unanswered).
import { retry } from '../../prompt/conversation.js';
import { noticeItem, turnItems } from '../view/transcriptItems.js';
import { noArgs, refusedWhileBusy } from './commandArgs.js';
import type { SlashCommand } from './slashCommand.js';

export const retryCommand: SlashCommand = {
  name: 'retry',
  aliases: [],
  args: '',
  description: 'regenerate the last reply',
  run: (chat, raw) => {
    if (!noArgs(chat, 'retry', raw) || refusedWhileBusy(chat, 'retry')) return;
    const conversation = retry(chat.keeper.session.conversation);
    if (!conversation) return chat.view.notice('Nothing to retry yet.', 'error');
    chat.setSession({ ...chat.keeper.session, conversation });
    chat.reprint([...turnItems(conversation.turns), noticeItem('Regenerating the last reply…')]);
    chat.turns.start();
  },
};
