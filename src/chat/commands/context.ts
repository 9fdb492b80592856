// /context: what the context window of the next reply holds, part by part, and the prompt
// as the model (or the server) gets it.
import type { EndpointInfo } from '../../engine/protocol.js';
import { ESTIMATE_BYTES_PER_TOKEN, TEMPLATE_MARGIN } from '../../engine/remote/serverExtras.js';
import { sessionWindow } from '../../prompt/sessionWindow.js';
import { keptNewestText } from '../../prompt/contextWindow.js';
import { addUser, awaitsReply } from '../../prompt/conversation.js';
import type { ChatContext } from '../chatContext.js';
import { noArgs } from './commandArgs.js';
import { formatContext } from './reports.js';
import type { SlashCommand } from './slashCommand.js';

export const contextCommand: SlashCommand = {
  name: 'context',
  aliases: [],
  args: '',
  description: 'what the context window holds',
  run: async (chat, raw) => {
    if (noArgs(chat, 'context', raw)) await showContext(chat);
  },
};

async function showContext(chat: ChatContext): Promise<void> {
  const model = chat.engine.model;
  const counter = chat.meter.counter();
  const format = chat.format();
  if (!model || !counter || !format) return chat.view.notice('No model is loaded yet, so there is no context window.', 'error');
  const session = chat.keeper.session;
  const pending = awaitsReply(session.conversation);
  // Without a pending message, show the window the next (empty) message would get.
  const conversation = pending ? session.conversation : addUser(session.conversation, '', { id: 'next' });
  const { maxNewTokens } = chat.effective().values;
  const window = await sessionWindow({
    engine: chat.engine,
    conversation,
    start: session.windowStart ?? null,
    format,
    contextLength: model.contextLength,
    maxNewTokens,
    countTokens: counter,
  });
  const included = conversation.turns.filter((t) => window.includedTurnIds.includes(t.id));
  const pieces = format.pieces(window.persona === 'included' ? conversation.persona : null, included);
  const counts = await counter(pieces.turns);
  const [personaTokens = 0] = window.persona === 'included' ? await counter([pieces.persona]) : [];
  const newestTokens = pending ? (counts.at(-1) ?? 0) : 0;
  const newest = conversation.turns.at(-1)?.text ?? '';
  const keptText = keptNewestText(window);
  const [keptTokens = 0] = window.truncated ? await counter([keptText]) : [];
  chat.view.notice(
    formatContext({
      contextLength: model.contextLength,
      maxNewTokens,
      promptTokens: window.promptTokens,
      turnsIn: included.length - (pending ? 0 : 1),
      turnsOut: window.droppedCount,
      persona: window.persona,
      personaTokens,
      earlierTurnTokens: counts.slice(0, -1).reduce((a, b) => a + b, 0),
      newestTokens,
      truncated: window.truncated,
      ...(window.truncated ? { cut: { keptTokens, droppedText: newest.slice(0, Math.max(0, newest.length - keptText.length)) } } : {}),
      // A server gets the window as messages and formats them with its own template.
      ...(model.endpoint
        ? {
            rendered: window.messages.map((m) => `[${m.role}] ${m.text}`).join('\n'),
            renderedTitle: `The window as sent to ${new URL(model.endpoint.url).host}: ${window.messages.length} messages, which the server formats with the model's chat template:`,
          }
        : { rendered: window.prompt }),
    }) + (model.endpoint ? `\n${endpointContextLine(model.endpoint)}` : ''),
  );
}

/** On a server, where the window's numbers come from. */
export function endpointContextLine(endpoint: EndpointInfo): string {
  const margin = `plus ${TEMPLATE_MARGIN.fixed} tokens and ${TEMPLATE_MARGIN.perMessage} per message for the server's chat template`;
  const counts =
    endpoint.windowCounts === 'messages'
      ? "Token counts: the server's, of the window's messages through its own chat template (POST /tokenize)."
      : endpoint.tokenCounts === 'server'
        ? `Token counts: the server's tokenizer (POST /tokenize) on Parley's transcript of the window, ${margin} (the server does not count messages).`
        : `Token counts: estimated (${ESTIMATE_BYTES_PER_TOKEN} bytes per token, on the high side), ${margin}: the server has no POST /tokenize.`;
  const context = {
    server: 'as the server reports it',
    flag: 'from --context',
    default: 'a default: the server does not say; set it with --context',
  }[endpoint.contextFrom];
  return `${counts} Context length: ${context}.`;
}
