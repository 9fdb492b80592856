// One reply at a time: waits for the model if it is still loading, streams the reply into
// the live area (finished lines into the transcript), and applies the result to the session.
import type { EngineClient } from '../engine/engineClient.js';
import type { SamplingParams } from '../engine/protocol.js';
import { chatTurn, type ChatTurnResult } from './chatTurn.js';
import { undo } from '../prompt/conversation.js';
import type { PromptFormat } from '../prompt/promptFormat.js';
import type { Session } from '../session/types.js';
import type { CountTokens } from '../prompt/tokenCountCache.js';
import { REPLY_INDENT, settleLines } from './view/replyLines.js';
import { TokenBatcher } from './view/tokenBatcher.js';
import { noticeItem, replyEndItem, replyLinesItem, styledLinesItem, turnItem, type TranscriptItem } from './view/transcriptItems.js';
import { MarkdownReply } from './view/markdownReply.js';
import type { ContextMeter } from './contextMeter.js';
import type { SessionKeeper } from './sessionKeeper.js';
import type { ViewStore } from './view/viewStore.js';

export interface TurnRunnerInput {
  engine: EngineClient;
  view: ViewStore;
  keeper: SessionKeeper;
  meter: ContextMeter;
  /** Why a model is not there yet but coming (a load, a restart after a crash): a reply waits for it. */
  modelWait: () => 'load' | 'restart' | null;
  format: () => PromptFormat | null;
  counter: () => CountTokens | null;
  params: () => SamplingParams;
  /** The model ref the session should remember. */
  modelRef: () => string | null;
  /** Replies are shown as Markdown. */
  markdown?: () => boolean;
  /** Markdown may use colours (default true). */
  colors?: boolean;
  /** Hands text back to the input box. */
  putInInput: (text: string) => void;
  /** Something the status bar shows changed (tokens per second). */
  onChange: () => void;
  /** A turn ended: with a reply (whole or stopped), or with an error. */
  onSettled: (outcome: TurnOutcome) => void;
}

/** How a turn ended: the model replied (to the end, or until stopped), or the reply failed. */
export type TurnOutcome = 'replied' | 'failed';

export class TurnRunner {
  tokensPerSecond: number | null = null;
  private turn: Promise<void> | null = null;
  private abort: AbortController | null = null;
  private waitingForModel = false;
  /** The reply streaming as Markdown, if it is. */
  private markdownReply: MarkdownReply | null = null;
  /** Columns the reply text has on screen, until the screen says (setReplyWidth). */
  private replyWidth = 80 - REPLY_INDENT;

  constructor(private readonly input: TurnRunnerInput) {}

  /** A reply streams or a message waits for the model. */
  get busy(): boolean {
    return this.turn !== null || this.waitingForModel;
  }

  /** A reply streams (the engine is generating). */
  get streaming(): boolean {
    return this.turn !== null;
  }

  get waiting(): boolean {
    return this.waitingForModel;
  }

  setReplyWidth(columns: number): void {
    this.replyWidth = Math.max(1, columns);
    this.markdownReply?.setWidth(this.replyWidth);
  }

  /** Generates a reply to the conversation, which ends with a user turn. */
  start(): void {
    const wait = this.input.modelWait();
    if (wait !== null) {
      this.waitingForModel = true;
      this.input.view.update({ live: { text: '', waitingForModel: true, restarting: wait === 'restart' } });
      return;
    }
    let outcome: TurnOutcome = 'failed';
    this.turn = this.run()
      .then((ended) => {
        outcome = ended;
      })
      .finally(() => {
        this.turn = null;
        // Whatever happened to the turn, notices held under the reply are printed now.
        this.input.view.endReply();
        this.input.onSettled(outcome);
      });
  }

  /** The model is ready: a waiting message is sent now. */
  modelReady(): boolean {
    if (!this.waitingForModel) return false;
    this.waitingForModel = false;
    this.start();
    return true;
  }

  /** No model came: a waiting message stays in the conversation, unanswered. */
  giveUpWaiting(): boolean {
    if (!this.waitingForModel) return false;
    this.waitingForModel = false;
    this.input.view.update({ live: null });
    return true;
  }

  /** Stops the reply; a message still waiting for the model goes back into the input box. */
  stop(): void {
    if (this.waitingForModel) {
      this.waitingForModel = false;
      const { keeper, view } = this.input;
      const last = keeper.session.conversation.turns.at(-1);
      const undone = undo(keeper.session.conversation);
      if (undone && last) {
        keeper.change((session) => ({ ...session, conversation: undone }));
        this.input.putInInput(last.text);
      }
      view.update({ live: null });
      view.notice('Not sent; your message is back in the input box.');
      return;
    }
    this.abort?.abort();
  }

  /** Resolves when the reply in progress (if any) has ended. */
  async settled(): Promise<void> {
    await this.turn;
  }

  /** Stops a reply in progress and waits until its partial text is kept. */
  async finish(): Promise<void> {
    this.abort?.abort();
    await this.turn;
  }

  private async run(): Promise<TurnOutcome> {
    const { engine, view, keeper, meter } = this.input;
    const format = this.input.format();
    const counter = this.input.counter();
    if (!format || !counter) return 'failed';
    const abort = new AbortController();
    this.abort = abort;
    view.update({ live: { text: '', waitingForModel: false } });
    view.beginReply();
    let streamed = false;
    // The live line is a row the reply wrapped onto, not the start of one of its lines.
    let continues = false;
    const markdown = this.input.markdown?.() ? new MarkdownReply(view, this.replyWidth, this.input.colors ?? true) : null;
    this.markdownReply = markdown;
    const batcher = new TokenBatcher((text) => {
      if (markdown) {
        streamed = true;
        return markdown.push(text);
      }
      const live = view.getState().live;
      if (!live) return;
      streamed = true;
      // Lines that can no longer change go to the transcript; the live area keeps the last one.
      const settled = settleLines(live.text + text, this.replyWidth, continues);
      const { lines, rest } = settled;
      continues = settled.continues;
      view.update({
        live: { ...live, text: rest },
        ...(lines.length > 0 ? { transcript: [...view.getState().transcript, replyLinesItem(lines)] } : {}),
      });
    });
    let result: ChatTurnResult | null = null;
    const asked = keeper.session;
    try {
      const events = chatTurn({
        engine,
        session: asked,
        params: this.input.params(),
        format,
        countTokens: counter,
        signal: abort.signal,
      });
      for await (const event of events) {
        if (event.type === 'window') meter.show(event.window);
        else if (event.type === 'delta') batcher.push(event.text);
        else result = event.result;
      }
    } finally {
      batcher.drain();
      this.abort = null;
      this.markdownReply = null;
    }
    if (markdown && streamed) this.finishTurn(asked, result, { lines: markdown.end() });
    else this.finishTurn(asked, result, streamed ? (view.getState().live?.text ?? '') : null);
    return result === null || result.error ? 'failed' : 'replied';
  }

  /**
   * `streamedRest`: the reply's last line when it was streamed, its earlier lines already
   * shown; or its last lines as Markdown.
   */
  private finishTurn(asked: Session, result: ChatTurnResult | null, streamedRest: string | null | { lines: string[] }): void {
    const { view, keeper } = this.input;
    const items: TranscriptItem[] = [];
    if (result) {
      const done = result;
      // Settings and the persona may have changed while the reply streamed: the reply is
      // added to the session as it is now, not to the one the turn started from.
      keeper.change((session) => withTurnResult(session, asked, done, this.input.modelRef()));
      if (done.reply) {
        const interrupted = done.reply.meta?.interrupted ?? false;
        if (streamedRest === null) items.push(turnItem(done.reply));
        else if (typeof streamedRest === 'string') items.push(replyEndItem(streamedRest, interrupted));
        else items.push(styledLinesItem(streamedRest.lines, { interrupted }));
        this.tokensPerSecond = done.reply.meta?.tokensPerSecond ?? this.tokensPerSecond;
      }
      if (done.error) items.push(noticeItem(`The reply failed: ${done.error}. /retry tries again.`, 'error'));
      else if (!done.reply && done.interrupted) items.push(noticeItem('Stopped before the first word; /retry asks again.'));
    }
    view.endReply(...items);
    this.input.onChange();
  }
}

/**
 * The session `current` with the outcome of a turn that started from `asked`: the reply
 * (if any) follows the user turn it answers, and the window start is the turn's. Nothing
 * changes when `current` is another session, or no longer ends with that user turn.
 */
export function withTurnResult(current: Session, asked: Session, result: ChatTurnResult, modelRef: string | null): Session {
  const answered = asked.conversation.turns.at(-1);
  const last = current.conversation.turns.at(-1);
  if (current.name !== asked.name || !answered || last?.id !== answered.id) return current;
  const reply = result.reply;
  return {
    ...current,
    model: modelRef ?? current.model,
    windowStart: result.session.windowStart ?? null,
    conversation: reply ? { ...current.conversation, turns: [...current.conversation.turns, reply] } : current.conversation,
  };
}
