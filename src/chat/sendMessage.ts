// A line that is not a command: a message to the model, which answers it now or as soon as
// the model it waits for is ready. One sent while a reply is on its way waits in the queue.
import { addUser } from '../prompt/conversation.js';
import type { ChatContext } from './chatContext.js';
import { turnItem } from './view/transcriptItems.js';
import { cutQuestion, messageCut } from './messageFit.js';
import { runReported } from './reported.js';
import type { TurnOutcome } from './turnRunner.js';

export function sendMessage(chat: ChatContext, text: string): void {
  const { turns, view } = chat;
  if (turns.busy || checking.has(chat)) {
    // Shown under the reply as `queued: …`; it goes out when the reply ends.
    chat.queue.push(text);
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
        sendQueued(chat);
      },
    );
  });
}

/**
 * A reply ended. After a reply (whole or stopped by the user) the oldest queued message goes
 * out, as the user asked; after a failure it would likely fail the same way, so the queue
 * goes back into the input box for the user to send again.
 */
export function replyEnded(chat: ChatContext, outcome: TurnOutcome): void {
  if (outcome === 'replied') return sendQueued(chat);
  const queued = chat.queue.takeAll();
  if (queued.length === 0) return;
  chat.questions.putInInput(queued.join('\n'));
  chat.view.notice(
    `Not sent after the failed reply: your queued message${queued.length === 1 ? ' is' : 's are'} back in the input box.`,
    'warning',
  );
}

/** Sends the oldest queued message, if nothing else is on its way. */
export function sendQueued(chat: ChatContext): void {
  if (chat.turns.busy || checking.has(chat)) return;
  const next = chat.queue.shift();
  if (next !== null) sendMessage(chat, next);
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
