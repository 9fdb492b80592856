// Mean time to first token over a scripted 40-turn conversation that
// fills the context, so the window slides now and then, through the real session layer.
import type { WorkerEngineClient } from '../src/engine/worker/workerEngineClient.js';
import { addUser } from '../src/prompt/conversation.js';
import { newSession } from '../src/session/sessionStore.js';
import { ChatBenchRunner, greedy } from './chatBenchTurn.js';

const TURNS = 40;
const MAX_NEW_TOKENS = 24;

export interface ConversationResult {
  meanTtftMs: number;
  /** Turns whose window dropped turns the previous window still had. */
  slides: number;
  meanPromptTokens: number;
  /** Every reply's text, to check that the cache does not change greedy output. */
  replies: string[];
}

/** The user's message of turn `i`: one to three sentences, now and then a long paragraph. */
function message(sentences: readonly string[], i: number): string {
  const count = i % 7 === 3 ? 8 : 1 + (i % 3);
  return Array.from({ length: count }, (_, j) => sentences[(i * 5 + j) % sentences.length]).join(' ');
}

/** Runs the conversation on an engine with the model loaded; greedy, so replies are reproducible. */
export async function conversationTtft(engine: WorkerEngineClient, sentences: readonly string[]): Promise<ConversationResult> {
  const runner = new ChatBenchRunner(engine);
  let session = newSession('conversation', { persona: 'The assistant answers questions about the licence text.' });
  let ttftSum = 0;
  let promptSum = 0;
  let slides = 0;
  const replies: string[] = [];
  for (let i = 0; i < TURNS; i++) {
    session = { ...session, conversation: addUser(session.conversation, message(sentences, i)) };
    const { result, done } = await runner.turn(session, greedy(MAX_NEW_TOKENS));
    ttftSum += done.ttftMs;
    promptSum += done.promptTokens;
    if (result.window?.slid) slides++;
    replies.push(result.reply?.text ?? '');
    session = result.session;
  }
  return { meanTtftMs: ttftSum / TURNS, slides, meanPromptTokens: promptSum / TURNS, replies };
}
