// One exchange with the model: the only place the chat flow lives, shared by the one-shot
// CLI and the Ink UI.
//
//   const session1 = { ...session, conversation: addUser(session.conversation, text) };
//   for await (const event of chatTurn({ engine, session: session1, params, format, signal })) {
//     if (event.type === 'window') showContext(event.window);   // once, before any text
//     if (event.type === 'delta') write(event.text);            // reply text as it streams
//     if (event.type === 'done') result = event.result;         // always last, exactly once
//   }
//   // result.session has the reply appended; the caller saves it (sessionStore.saveSession).
//
// - The conversation must end with the user turn to answer (addUser, or retry/editLast).
// - Deltas are already clean: they never contain a stop marker or any prefix of one (a
//   tail that could grow into "\nUser:" is held back until the next token settles it),
//   leading/trailing whitespace is held back too, and the deltas concatenate to exactly
//   the stored reply text.
// - Aborting `signal` (or engine.cancel()) stops the reply within a token: the partial text
//   is kept as the reply with meta.interrupted = true. Breaking out of the loop also
//   cancels the generation.
// - Failures never throw: the done event carries reason 'error' and a one-line message,
//   and the session is returned without a reply (or with the partial text, if any), so
//   /retry can resend.
import type { EngineClient } from '../engine/engineClient.js';
import type { DoneReason, GenerateEvent, GenerationStats, SamplingParams } from '../engine/protocol.js';
import type { ContextWindow } from '../prompt/contextWindow.js';
import { appendReply } from '../prompt/conversation.js';
import { replyEndMarkers, type PromptFormat } from '../prompt/promptFormat.js';
import { chatMessages, sessionWindow } from '../prompt/sessionWindow.js';
import { extensionOf, ReplyText } from '../engine/reply/replyText.js';
import type { CountTokens } from '../prompt/tokenCountCache.js';
import type { ReplyMeta, Turn } from '../prompt/conversationTypes.js';
import type { Session } from '../session/types.js';
import { errorMessage } from '../errors.js';

export interface ChatTurnInput {
  engine: EngineClient;
  session: Session;
  /** The effective sampling parameters (settingsPrecedence.samplingParams). */
  params: SamplingParams;
  format: PromptFormat;
  /** A cached counter (TokenCountCache.counter); defaults to the engine's, uncached. */
  countTokens?: CountTokens;
  signal?: AbortSignal;
}

export type ChatTurnEvent =
  { type: 'window'; window: ContextWindow } | { type: 'delta'; text: string } | { type: 'done'; result: ChatTurnResult };

export interface ChatTurnResult {
  /** The session with the reply appended and the window start remembered. */
  session: Session;
  /** The stored reply, or null when nothing was generated (error, early cancel). */
  reply: Turn | null;
  reason: DoneReason;
  interrupted: boolean;
  /** The context the reply was generated from; null when it could not be built. */
  window: ContextWindow | null;
  /** One line, set when reason is 'error'. */
  error?: string;
}

export async function* chatTurn(input: ChatTurnInput): AsyncGenerator<ChatTurnEvent, void, undefined> {
  const { engine, session, params, format, signal } = input;
  const model = engine.model;
  const fail = (error: string, window: ContextWindow | null = null): ChatTurnEvent => ({
    type: 'done',
    result: { session, reply: null, reason: 'error', interrupted: false, window, error },
  });
  if (model === null) {
    yield fail('no model is loaded');
    return;
  }

  let window: ContextWindow;
  try {
    window = await sessionWindow({
      engine,
      conversation: session.conversation,
      start: session.windowStart ?? null,
      format,
      contextLength: model.contextLength,
      maxNewTokens: params.maxNewTokens,
      countTokens: input.countTokens,
    });
  } catch (error) {
    yield fail(errorMessage(error));
    return;
  }
  yield { type: 'window', window };
  if (signal?.aborted) {
    yield { type: 'done', result: { session, reply: null, reason: 'cancelled', interrupted: true, window } };
    return;
  }

  const stream = engine.generate(
    window.prompt,
    {
      ...params,
      stop: [...format.stop],
      ...(format.prefixStable ? {} : { reusePrefix: false }),
    },
    { messages: chatMessages(window.messages) },
  );
  const iterator = stream[Symbol.asyncIterator]();
  const onAbort = (): void => engine.cancel();
  signal?.addEventListener('abort', onAbort, { once: true });
  const text = new HeldBackText(replyEndMarkers(format));
  let stats: GenerationStats | null = null;
  let streamError: string | null = null;
  let finished = false;
  try {
    for (;;) {
      let next: IteratorResult<GenerateEvent>;
      try {
        next = await iterator.next();
      } catch (error) {
        streamError = errorMessage(error);
        break;
      }
      if (next.done) break;
      const event = next.value;
      if (event.type === 'done') {
        stats = event;
        break;
      }
      if (text.stopped) continue;
      const delta = text.push(event.text);
      // The model has begun the next turn; the engine stops too, this just doesn't wait.
      if (text.stopped) engine.cancel();
      if (delta !== '') yield { type: 'delta', text: delta };
    }
    const rest = text.finish(format.cleanReply(text.raw));
    if (rest !== '') yield { type: 'delta', text: rest };
    finished = true;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    if (!finished && stats === null) {
      // The consumer left the loop early: stop the model and let its stream end.
      engine.cancel();
      await drain(iterator);
    }
  }

  const reason: DoneReason = text.stopped ? 'stop' : streamError !== null ? 'error' : stats === null ? 'error' : stats.reason;
  const error = reason !== 'error' ? undefined : (streamError ?? stats?.error ?? 'the engine ended the reply without a result');
  const interrupted = reason === 'cancelled';
  const replyText = text.shown;
  const completed = reason === 'eos' || reason === 'length' || reason === 'stop';
  if (!completed && replyText === '') {
    const base = { ...session, windowStart: window.start };
    yield { type: 'done', result: { session: base, reply: null, reason, interrupted, window, ...(error ? { error } : {}) } };
    return;
  }
  const meta: ReplyMeta = {
    model: model.modelId,
    dtype: model.dtype,
    params: { ...params },
    promptTokens: stats?.promptTokens || window.promptTokens,
    generatedTokens: stats?.generatedTokens ?? 0,
    tokensPerSecond: stats?.tokensPerSecond ?? 0,
    ttftMs: stats?.ttftMs ?? 0,
    reason,
    interrupted,
  };
  const conversation = appendReply(session.conversation, replyText, meta);
  const reply = conversation.turns.at(-1) as Turn;
  yield {
    type: 'done',
    result: {
      session: { ...session, conversation, windowStart: window.start },
      reply,
      reason,
      interrupted,
      window,
      ...(error ? { error } : {}),
    },
  };
}

/**
 * The visible reply while it streams: cut at the first end marker, with any tail that
 * could still become a marker, and edge whitespace, held back. `shown` only ever grows.
 */
class HeldBackText {
  raw = '';
  shown = '';
  private readonly cut: ReplyText;

  constructor(markers: readonly string[]) {
    this.cut = new ReplyText(markers);
  }

  get stopped(): boolean {
    return this.cut.hitStop;
  }

  push(token: string): string {
    this.raw += token;
    this.cut.update(this.raw);
    return this.advance(this.cut.text.trim());
  }

  /** The reply is over: show the rest of the final text. */
  finish(final: string): string {
    return this.advance(final);
  }

  private advance(visible: string): string {
    const delta = extensionOf(this.shown, visible);
    if (delta) this.shown = visible;
    return delta;
  }
}

async function drain(iterator: AsyncIterator<GenerateEvent>): Promise<void> {
  try {
    for (;;) {
      const next = await iterator.next();
      if (next.done || next.value.type === 'done') return;
    }
  } catch {
    // The generation is abandoned; its failure has no one to report to.
  }
}
