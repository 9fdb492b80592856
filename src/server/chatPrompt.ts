// A chat request's messages as the model's prompt, through the session layer's format: the
// transcript for GPT-2, the tokenizer's chat template for instruct models. The same format,
// stops and clean-up the terminal chat uses, so a model answers alike over HTTP.
import { replyEndMarkers, type PromptFormat } from '../prompt/promptFormat.js';
import type { Role } from '../prompt/conversationTypes.js';
import type { ChatMessage } from './schemas.js';

export function messageText(content: ChatMessage['content']): string {
  return typeof content === 'string' ? content : content.map((part) => part.text).join('');
}

/** A leading system (or developer) message is the persona; the rest are turns in order. */
export function chatPrompt(format: PromptFormat, messages: readonly ChatMessage[]): string {
  const turns = messages.map((m) => ({ role: (m.role === 'developer' ? 'system' : m.role) as Role, text: messageText(m.content) }));
  const persona = turns[0]?.role === 'system' ? turns.shift()!.text : null;
  return format.render(persona, turns);
}

/** Where the engine must stop: the format's end-of-turn markers, then the client's own stops. */
export function chatStops(format: PromptFormat, clientStops: readonly string[]): string[] {
  return [...replyEndMarkers(format), ...clientStops];
}
