// /undo: remove the last exchange (the last message and its reply).
import { undo } from '../../prompt/conversation.js';
import { noticeItem, turnItems } from '../view/transcriptItems.js';
import { noArgs, refusedWhileBusy } from './commandArgs.js';
import type { SlashCommand } from './slashCommand.js';

export const undoCommand: SlashCommand = {
  name: 'undo',
  aliases: [],
  args: '',
  description: 'remove the last exchange',
  run: async (chat, raw) => {
    if (!noArgs(chat, 'undo', raw) || refusedWhileBusy(chat, 'undo')) return;
    const conversation = undo(chat.keeper.session.conversation);
    if (!conversation) return chat.view.notice('Nothing to undo.', 'error');
    chat.setSession({ ...chat.keeper.session, conversation });
    chat.reprint([...turnItems(conversation.turns), noticeItem('Removed the last exchange.')]);
    await chat.keeper.autosave();
  },
};
