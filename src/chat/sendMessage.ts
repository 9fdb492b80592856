// A line that is not a command: a message to the model, which answers it now or as soon as
// the model it waits for is ready.
import { addUser } from '../prompt/conversation.js';
import type { ChatContext } from './chatContext.js';
import { turnItem } from './view/transcriptItems.js';
import { cutQuestion, messageCut } from './messageFit.js';
import { runReported } from './reported.js';

export function sendMessage(chat: ChatContext, text: string): void {
  const { turns, view } = chat;
  if (turns.streaming) {
    // The text stays the user's: back into the input box, to send once the reply is done.
    chat.questions.putInInput(text);
    view.notice('A reply is on its way: wait for the reply or press Esc.', 'warning');
    return;
  }
  if (turns.busy || checking.has(chat)) {
    view.notice('A message is already waiting for a reply; Esc takes it back.', 'warning');
    return;
  }
  checking.add(chat);
  runReported(view, async () => {
    let cut;
    try {
      cut = await messageCut(chat, text);
    } finally {
      checking.delete(chat);
    }
    if (cut === null) return send(chat, text);
    chat.questions.ask(
      cutQuestion(cut),
      () => send(chat, text),
      () => {
        chat.questions.putInInput(text);
        view.notice('Not sent: your message is back in the input box.');
      },
    );
  });
}

/** Chats whose message is being measured against the window: a second one waits its turn. */
const checking = new WeakSet<ChatContext>();

function send(chat: ChatContext, text: string): void {
  const { keeper, turns, view } = chat;
  keeper.change((session) => ({ ...session, conversation: addUser(session.conversation, text) }));
  view.append(turnItem(keeper.session.conversation.turns.at(-1)!));
  if (!chat.engine.model && chat.slot.waitReason === null) {
    view.notice('No model is loaded: load one with /model, then /retry to get a reply.', 'error');
    return;
  }
  turns.start();
}
