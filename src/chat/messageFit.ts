// Whether a message about to be sent fits the context window whole. One that does not would
// reach the model with its start cut (the window keeps its end): the user is told so, with
// the numbers, before it goes, instead of seeing the whole text in the transcript.
import { addUser } from '../prompt/conversation.js';
import { keptNewestText } from '../prompt/contextWindow.js';
import { sessionWindow } from '../prompt/sessionWindow.js';
import type { ChatContext } from './chatContext.js';

export interface MessageCut {
  /** The whole message, in tokens. */
  messageTokens: number;
  /** The end of it that fits beside the reply. */
  keptTokens: number;
  maxNewTokens: number;
}

/** The cut `text` would get if sent now, or null when it fits whole (or no model is ready to say). */
export async function messageCut(chat: ChatContext, text: string): Promise<MessageCut | null> {
  const model = chat.engine.model;
  const counter = chat.meter.counter();
  const format = chat.format();
  if (!model || !counter || !format) return null;
  const session = chat.keeper.session;
  const { maxNewTokens } = chat.effective().values;
  const window = await sessionWindow({
    engine: chat.engine,
    conversation: addUser(session.conversation, text, { id: 'unsent' }),
    start: session.windowStart ?? null,
    format,
    contextLength: model.contextLength,
    maxNewTokens,
    countTokens: counter,
  });
  if (!window.truncated) return null;
  const [messageTokens = 0, keptTokens = 0] = await counter([text, keptNewestText(window)]);
  return { messageTokens, keptTokens, maxNewTokens };
}

/** The question asked before a cut message goes. */
export function cutQuestion(cut: MessageCut): string {
  return (
    `Your message is ${cut.messageTokens} tokens; ${cut.keptTokens} fit with a ${cut.maxNewTokens}-token reply. ` +
    'Send it cut (its start dropped)? No puts it back in the input box, to shorten it or lower /max-tokens.'
  );
}
