// One generation request's state from admission to its done message: the prompt's ids (an
// empty prompt seeded), the reply's token budget, the ids that end it, the seeded RNG, the
// stop texts and the text let out so far, the timings. The single-sequence loop
// (singleSequence.ts) and the batch scheduler (batch/batchScheduler.ts) both drive it, so a
// rule of the reply is written once: they only decide when the model runs.
import type { DoneReason, FromWorker, GenerateParams, ModelInfo } from '../protocol.js';
import type { TokenizerInfo } from '../tokenizer/tokenizerProtocol.js';
import type { IncrementalDetokenizer } from '../tokenizer/byteLevelDetokenizer.js';
import { ReplyText } from '../reply/replyText.js';
import { specialStopIds } from '../reply/stopSequences.js';
import { checkLimit, replyTokens } from './contextLimit.js';
import { createRng, sampleNextToken } from './sampling.js';
import { errorLine } from '../../errors.js';

export type DoneMessage = Extract<FromWorker, { type: 'done' }>;
export type TokenMessage = Extract<FromWorker, { type: 'token' }>;

/** What a sequence needs of the model: its context and end ids, the tokenizer's specials and a detokeniser. */
export interface SequenceModel {
  info: Pick<ModelInfo, 'contextLength' | 'eosTokenIds'>;
  tokenizer: {
    info: Pick<TokenizerInfo, 'bos' | 'specialTokens'>;
    incremental(): IncrementalDetokenizer;
  };
}

export interface DoneStats {
  promptTokens: number;
  generatedTokens: number;
  ttftMs: number;
  tokensPerSecond: number;
  text: string;
  reusedTokens?: number;
}

/** The stats of a request that ended before it had a prompt. */
export const NO_STATS: DoneStats = { promptTokens: 0, generatedTokens: 0, ttftMs: 0, tokensPerSecond: 0, text: '' };

export function doneMessage(id: number, reason: DoneReason, stats: DoneStats, error?: string, errorCode?: 'over-limit'): DoneMessage {
  return {
    type: 'done',
    id,
    reason,
    promptTokens: stats.promptTokens,
    generatedTokens: stats.generatedTokens,
    ttftMs: stats.ttftMs,
    tokensPerSecond: stats.tokensPerSecond,
    ...(stats.reusedTokens !== undefined ? { reusedTokens: stats.reusedTokens } : {}),
    text: stats.text,
    ...(error ? { error } : {}),
    ...(errorCode ? { errorCode } : {}),
  };
}

/** The done error of a generation that threw: its first line, as the UI shows one line. */
export function generationFailed(err: unknown): string {
  return `generation failed: ${errorLine(err)}`;
}

/**
 * An empty prompt starts from BOS, as the model saw text start in training (GPT-2's BOS is
 * its <|endoftext|>); a tokenizer without a BOS falls back to the first end id.
 */
export function seededPrompt(ids: number[], bosId: number | undefined, endIds: readonly number[]): number[] {
  if (ids.length > 0) return ids;
  const seed = bosId ?? endIds[0];
  return seed === undefined ? ids : [seed];
}

/** The reply's token budget for a prompt of `promptTokens` (see GenerateParams.fitToContext), or the refusal. */
export function fitReply(
  promptTokens: number,
  params: GenerateParams,
  contextLength: number,
): { maxNewTokens: number } | { error: string } {
  const maxNewTokens = replyTokens(promptTokens, params.maxNewTokens, contextLength, params.fitToContext);
  const error = checkLimit(promptTokens, maxNewTokens, contextLength);
  return error === null ? { maxNewTokens } : { error };
}

/** Token ids that end the reply: the model's end ids and the stops that are special tokens. */
export function endIds(
  eosTokenIds: readonly number[],
  stops: readonly string[],
  specials: readonly { content: string; id: number }[],
): Set<number> {
  return new Set([...eosTokenIds, ...specialStopIds(stops, specials)]);
}

/** Time to the first token (from `started`) and the decode rate after it, 0 where there is nothing to measure. */
export function replyTimings(
  generated: number,
  started: number,
  firstAt: number,
  lastAt: number,
): { ttftMs: number; tokensPerSecond: number } {
  const seconds = (lastAt - firstAt) / 1000;
  return {
    ttftMs: generated > 0 ? firstAt - started : 0,
    tokensPerSecond: generated > 1 && seconds > 0 ? (generated - 1) / seconds : 0,
  };
}

export type Admission = { sequence: Sequence } | { refused: DoneMessage };

/**
 * A request whose prompt is encoded (`encoded`, its token ids) becomes a sequence, or is
 * refused with its done message when prompt and reply do not fit the context. `started` is
 * when the request arrived: the first token's time counts from it.
 */
export function admit(id: number, encoded: number[], params: GenerateParams, started: number, model: SequenceModel): Admission {
  const promptIds = seededPrompt(encoded, model.tokenizer.info.bos?.id, model.info.eosTokenIds);
  const fit = fitReply(promptIds.length, params, model.info.contextLength);
  if ('error' in fit)
    return { refused: doneMessage(id, 'error', { ...NO_STATS, promptTokens: promptIds.length }, fit.error, 'over-limit') };
  return { sequence: new Sequence(id, promptIds, { ...params, maxNewTokens: fit.maxNewTokens }, started, model) };
}

export class Sequence {
  readonly generated: number[] = [];
  /** The sampled token not yet fed to the model. */
  next = -1;
  /** `next`'s text is not streamed yet. */
  unsent = false;
  /** The reply has all its tokens: only `next`'s text remains to send. */
  final = false;
  /** Prompt tokens that came from a cache (reported when the driver keeps one). */
  reusedTokens: number | undefined;
  private readonly seen: Set<number>;
  private readonly ends: Set<number>;
  private readonly rng: () => number;
  private readonly reply: ReplyText;
  /** The reply's text token by token, never the whole reply again (which grows with its length). */
  private readonly detokenizer: IncrementalDetokenizer;
  private firstAt = 0;
  private lastAt = 0;

  constructor(
    readonly id: number,
    readonly promptIds: readonly number[],
    /** maxNewTokens is the budget fitted to the context. */
    readonly params: GenerateParams,
    private readonly started: number,
    model: SequenceModel,
  ) {
    const stops = params.stop ?? [];
    this.seen = new Set(promptIds);
    this.ends = endIds(model.info.eosTokenIds, stops, model.tokenizer.info.specialTokens);
    this.rng = createRng(params.seed ?? (Math.random() * 2 ** 31) | 0);
    this.reply = new ReplyText(stops);
    this.detokenizer = model.tokenizer.incremental();
  }

  get hitStop(): boolean {
    return this.reply.hitStop;
  }

  /**
   * Samples the next token from `logits` (modified: end ids are masked until minNewTokens).
   * Returns true when the model ended the reply; otherwise the token is `next`, not fed and
   * not sent yet.
   */
  sample(logits: Float32Array): boolean {
    if (this.generated.length < (this.params.minNewTokens ?? 0)) for (const e of this.ends) logits[e] = -Infinity;
    const token = sampleNextToken(logits, this.params, this.seen, this.rng);
    if (this.ends.has(token)) return true;
    this.generated.push(token);
    this.seen.add(token);
    this.next = token;
    this.unsent = true;
    this.final = this.generated.length >= this.params.maxNewTokens;
    this.lastAt = performance.now();
    if (this.generated.length === 1) this.firstAt = this.lastAt;
    return false;
  }

  /** The text `next` adds, before the stop rules see it (show() lets it out). */
  decodeNext(): Promise<string> {
    this.unsent = false;
    return Promise.resolve(this.detokenizer.push(this.next));
  }

  /** The token event for `next`'s text: what of it is safe to show (a possible stop's start is held back). */
  show(piece: string): TokenMessage {
    return { type: 'token', id: this.id, text: this.reply.append(piece), tokenId: this.next };
  }

  /**
   * The messages that end the sequence: the held-back text (which can still complete a stop
   * sequence, turning 'eos' or 'length' into 'stop'), then the done message.
   */
  async finish(reason: DoneReason, error?: string): Promise<FromWorker[]> {
    const messages: FromWorker[] = [];
    let failure = error;
    let outcome = reason;
    if (reason !== 'stop') {
      try {
        // A sequence cancelled or failed between sampling and sending still has its last token.
        const unsent = this.unsent ? await this.decodeNext() : '';
        const rest = this.reply.end(unsent + (await this.detokenizer.finish()));
        if (rest) messages.push({ type: 'token', id: this.id, text: rest, tokenId: -1 });
        if (this.reply.hitStop && (reason === 'eos' || reason === 'length')) outcome = 'stop';
      } catch (err) {
        outcome = 'error';
        failure ??= generationFailed(err);
      }
    }
    messages.push(doneMessage(this.id, outcome, this.stats(), failure));
    return messages;
  }

  /** The counts and text so far, without timings: a request ended by a failure of the whole loop. */
  abandoned(error: string): DoneMessage {
    return doneMessage(
      this.id,
      'error',
      { ...NO_STATS, promptTokens: this.promptIds.length, generatedTokens: this.generated.length, text: this.reply.text },
      error,
    );
  }

  private stats(): DoneStats {
    const n = this.generated.length;
    return {
      promptTokens: this.promptIds.length,
      generatedTokens: n,
      ...replyTimings(n, this.started, this.firstAt, this.lastAt),
      text: this.reply.text,
      ...(this.reusedTokens !== undefined ? { reusedTokens: this.reusedTokens } : {}),
    };
  }
}
