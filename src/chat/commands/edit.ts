// /edit: take the last message back into the input box, to change and send again.
import { editLast } from '../../prompt/conversation.js';
import { noticeItem, turnItems } from '../view/transcriptItems.js';
import { noArgs, refusedWhileBusy } from './commandArgs.js';
import type { SlashCommand } from './slashCommand.js';

export const editCommand: SlashCommand = {
  name: 'edit',
  aliases: [],
  args: '',
  description: 'put your last message back in the input box',
  run: (chat, raw) => {
    if (!noArgs(chat, 'edit', raw) || refusedWhileBusy(chat, 'edit')) return;
    const edited = editLast(chat.keeper.session.conversation);
    if (!edited) return chat.view.notice('No message to edit yet.', 'error');
    chat.setSession({ ...chat.keeper.session, conversation: edited.conversation });
    chat.reprint([
      ...turnItems(edited.conversation.turns),
      noticeItem('Your last message is back in the input box; Enter sends it again.'),
    ]);
    chat.questions.putInInput(edited.text);
  },
};
