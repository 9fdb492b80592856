// A session's context window, built one way for every caller (the turn driver, the context
// meter, /context), so the count the status bar shows is the count the reply is made from.
import type { ChatMessage, EngineClient } from '../engine/engineClient.js';
import { buildWindow, type ContextWindow, type WindowOptions } from './contextWindow.js';
import type { Conversation } from './conversationTypes.js';
import type { Message, PromptFormat } from './promptFormat.js';
import type { CountTokens } from './tokenCountCache.js';

export interface SessionWindowInput {
  engine: EngineClient;
  /** Ends with the user turn to answer; its persona goes in whenever it fits. */
  conversation: Conversation;
  /** Where the session's previous window started (Session.windowStart), to keep its prefix. */
  start: string | null;
  format: PromptFormat;
  contextLength: number;
  maxNewTokens: number;
  /** A cached counter (TokenCountCache.counter); defaults to the engine's, uncached. */
  countTokens?: CountTokens | undefined;
}

export function sessionWindow(input: SessionWindowInput): Promise<ContextWindow> {
  const { engine } = input;
  return buildWindow(input.conversation, {
    contextLength: input.contextLength,
    maxNewTokens: input.maxNewTokens,
    countTokens: input.countTokens ?? ((texts) => engine.countTokens(texts)),
    ...windowCount(engine),
    format: input.format,
    start: input.start,
    maxTokenBytes: engine.model?.maxTokenBytes,
  });
}

/**
 * The window's exact count as `engine` will send it (see EngineClient.countChat): options for
 * buildWindow, empty when the engine generates from the prompt text, which is then counted.
 */
export function windowCount(engine: EngineClient): Pick<WindowOptions, 'countWindow'> {
  if (!engine.countChat) return {};
  return { countWindow: (prompt, messages) => engine.countChat!(prompt, chatMessages(messages)) };
}

/** A window's messages as the engine takes them. */
export function chatMessages(messages: readonly Message[]): ChatMessage[] {
  return messages.map((message) => ({ role: message.role, content: message.text }));
}
