// A line that is not a command: a message to the model, which answers it now or as soon as
// the model it waits for is ready.
import { addUser } from '../prompt/conversation.js';
import type { ChatContext } from './chatContext.js';
import { turnItem } from './view/transcriptItems.js';

export function sendMessage(chat: ChatContext, text: string): void {
  const { keeper, turns, view } = chat;
  if (turns.streaming) {
    // The text stays the user's: back into the input box, to send once the reply is done.
    chat.questions.putInInput(text);
    view.notice('A reply is on its way: wait for the reply or press Esc.', 'warning');
    return;
  }
  if (turns.busy) {
    view.notice('A message is already waiting for a reply; Esc takes it back.', 'warning');
    return;
  }
  keeper.change((session) => ({ ...session, conversation: addUser(session.conversation, text) }));
  view.append(turnItem(keeper.session.conversation.turns.at(-1)!));
  if (!chat.engine.model && chat.slot.waitReason === null) {
    view.notice('No model is loaded: load one with /model, then /retry to get a reply.', 'error');
    return;
  }
  turns.start();
}
