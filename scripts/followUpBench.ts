// Time to the first token of a follow-up, a 20-token user message added
// to a window of about 800 tokens, after the reply to the previous message. With the prefix
// cache only the new tokens should need a forward pass; without it the whole window does.
import type { WorkerEngineClient } from '../src/engine/worker/workerEngineClient.js';
import { addUser, appendReply } from '../src/prompt/conversation.js';
import { transcriptFormat } from '../src/prompt/promptFormat.js';
import { newSession } from '../src/session/sessionStore.js';
import type { Session } from '../src/session/types.js';
import { ChatBenchRunner, greedy } from './chatBenchTurn.js';
import { median } from './benchStats.js';

const WINDOW_TOKENS = 800;
const FOLLOW_UP_TOKENS = 20;
const REPLY_TOKENS = 16;
const RUNS = 5;

export interface FollowUpResult {
  /** Median TTFT of the follow-up turn. */
  ttftMs: number;
  promptTokens: number;
  /** Prompt tokens the engine reused from its cache for the follow-up. */
  reusedTokens: number;
}

/** The longest run of `words` from the start that is at most `tokens` tokens. */
async function wordsUpTo(engine: WorkerEngineClient, words: readonly string[], tokens: number): Promise<string> {
  let n = 1;
  while (n < words.length && (await engine.countTokens([words.slice(0, n + 1).join(' ')]))[0]! <= tokens) n++;
  return words.slice(0, n).join(' ');
}

/**
 * Alternating user/assistant turns from `sentences` up to about `tokens` (counted segment by
 * segment, as the prompt is built), then the user message `last`: the window the first reply
 * is generated from.
 */
async function conversationOf(engine: WorkerEngineClient, sentences: readonly string[], tokens: number, last: string): Promise<Session> {
  const format = transcriptFormat();
  const count = async (...segments: string[]): Promise<number> => (await engine.countTokens(segments)).reduce((a, b) => a + b, 0);
  let conversation = newSession('follow-up').conversation;
  let total = await count(format.render(null, [{ role: 'user', text: last }]));
  // The licence's sentences are long: skipping a pair that does not fit, rather than
  // stopping there, lets shorter ones fill the window up closely.
  for (let i = 0; i + 1 < sentences.length; i += 2) {
    const user = sentences[i]!;
    const assistant = sentences[i + 1]!;
    const pair = await count(
      ...format.pieces(null, [
        { role: 'user', text: user },
        { role: 'assistant', text: assistant },
      ]).turns,
    );
    if (total + pair > tokens) continue;
    total += pair;
    conversation = appendReply(addUser(conversation, user), assistant);
  }
  return { ...newSession('follow-up'), conversation: addUser(conversation, last) };
}

/** Measures on an engine with the GPT-2-small model loaded. */
export async function followUpTtft(engine: WorkerEngineClient, sentences: readonly string[]): Promise<FollowUpResult> {
  const runner = new ChatBenchRunner(engine);
  const words = sentences.slice(7).join(' ').split(' ');
  const message = await wordsUpTo(engine, words, FOLLOW_UP_TOKENS);
  const times: number[] = [];
  let promptTokens = 0;
  let reused = 0;
  for (let r = 0; r < RUNS; r++) {
    // A different history each run, so a run cannot reuse the previous run's cache.
    const history = [...sentences.slice(r), ...sentences.slice(0, r)];
    const start = await conversationOf(engine, history, WINDOW_TOKENS, message);
    const first = await runner.turn(start, greedy(REPLY_TOKENS));
    const followUp = { ...first.result.session, conversation: addUser(first.result.session.conversation, message) };
    const { done, result } = await runner.turn(followUp, greedy(REPLY_TOKENS));
    if (result.window?.slid) throw new Error('the follow-up window slid; the benchmark wants the same prefix');
    times.push(done.ttftMs);
    promptTokens = done.promptTokens;
    reused = done.reusedTokens ?? 0;
  }
  return { ttftMs: median(times), promptTokens, reusedTokens: reused };
}
