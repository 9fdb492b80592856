// Continuous batching in the engine worker: requests that arrive while others generate join
// them. Each loop admits every waiting request there is a slot for (their prefills run
// together, between two decode steps), then runs one decode step of every active sequence as
// a single batch. A sequence that ends parks its slot with the token ids its cache holds, so a
// client that resends a growing conversation has its prefix reused (the prefix cache of the
// batched path).
import { setTimeout as sleep } from 'node:timers/promises';
import type { FromWorker, GenerateParams } from '../protocol.js';
import type { LoadedModel } from '../load/modelLoader.js';
import { BatchDecoder } from './batchDecoder.js';
import { PREFILL_CHUNK } from '../decode/decoderSession.js';
import { checkLimit, replyTokens } from '../generate/contextLimit.js';
import { commonPrefixLength } from '../decode/prefixCache.js';
import { ReplyText } from '../reply/replyText.js';
import type { IncrementalDetokenizer } from '../tokenizer/byteLevelDetokenizer.js';
import { specialStopIds } from '../reply/stopSequences.js';
import { createRng, sampleNextToken } from '../generate/sampling.js';

/** How long an idle scheduler waits for more requests before the first prefill. */
export const ADMISSION_GATHER_MS = 5;

interface Waiting {
  id: number;
  prompt: string;
  params: GenerateParams;
  arrived: number;
}

interface Sequence {
  id: number;
  params: GenerateParams;
  slot: number;
  promptIds: number[];
  reusedTokens: number;
  /** Positions of the slot's cache that are filled. */
  length: number;
  /** The sampled token not yet fed to the model. */
  next: number;
  /** `next`'s text is not streamed yet. */
  unsent: boolean;
  /** The reply has all its tokens: only `next`'s text remains to send. */
  final: boolean;
  generated: number[];
  seen: Set<number>;
  /** Token ids that end the reply: the model's end ids and stops that are special tokens. */
  ends: Set<number>;
  rng: () => number;
  reply: ReplyText;
  /** The reply's text token by token, never the whole reply again (which grows with its length). */
  detokenizer: IncrementalDetokenizer;
  started: number;
  firstAt: number;
  lastAt: number;
}

type DoneReason = 'eos' | 'length' | 'stop' | 'cancelled' | 'error';

export class BatchScheduler {
  private readonly decoder: BatchDecoder;
  private readonly waiting: Waiting[] = [];
  private readonly active: Sequence[] = [];
  /** Token ids each idle slot's cache holds (empty: nothing worth keeping). */
  private readonly parked: (readonly number[])[];
  private readonly lastUsed: number[];
  private readonly cancelled = new Set<number>();
  /** Requests past the queue (prefilling or decoding) until their done is sent. */
  private readonly admitted = new Set<number>();
  private running: Promise<void> | null = null;
  private clock = 0;

  constructor(
    private readonly model: LoadedModel,
    readonly slots: number,
    private readonly send: (msg: FromWorker) => void,
  ) {
    const { decoder, info } = model;
    this.decoder = new BatchDecoder(decoder.session, decoder.graph, slots, info.contextLength);
    this.parked = Array.from({ length: slots }, () => []);
    this.lastUsed = new Array<number>(slots).fill(0);
  }

  submit(id: number, prompt: string, params: GenerateParams): void {
    this.waiting.push({ id, prompt, params, arrived: performance.now() });
    this.running ??= this.loop()
      .catch((err: unknown) => this.failAll(err))
      .finally(() => (this.running = null));
  }

  /** Something unexpected (the tokenizer thread gone): every request ends with the error. */
  private failAll(err: unknown): void {
    const error = `generation failed: ${firstLine(err)}`;
    const base = { promptTokens: 0, generated: 0, ttftMs: 0, tokensPerSecond: 0, text: '' };
    this.parked.fill([]);
    for (const s of this.active.splice(0)) this.done(s.id, 'error', { ...base, promptTokens: s.promptIds.length, generated: s.generated.length, text: s.reply.text }, error);
    for (const id of this.admitted) if (!this.active.some((s) => s.id === id)) this.done(id, 'error', base, error);
    this.admitted.clear();
    this.cancelled.clear();
    for (const w of this.waiting.splice(0)) this.done(w.id, 'error', base, error);
  }

  /** Stops a request within one step; one still waiting ends at once. */
  cancel(id: number): void {
    const at = this.waiting.findIndex((w) => w.id === id);
    if (at !== -1) {
      const [w] = this.waiting.splice(at, 1);
      this.done(w!.id, 'cancelled', { promptTokens: 0, generated: 0, ttftMs: 0, tokensPerSecond: 0, text: '' });
      return;
    }
    if (this.admitted.has(id)) this.cancelled.add(id);
  }

  /** Cancels everything and waits until the loop has stopped (before a model change). */
  async stop(): Promise<void> {
    for (const w of [...this.waiting]) this.cancel(w.id);
    for (const id of this.admitted) this.cancelled.add(id);
    await this.running;
  }

  private async loop(): Promise<void> {
    // Clients that start together reach the worker a few milliseconds apart (HTTP parsing, the
    // token count): waiting that long lets their prefills share one pass instead of queueing
    // one behind another, which is most of the first token's wait with several clients.
    await sleep(ADMISSION_GATHER_MS);
    while (this.waiting.length > 0 || this.active.length > 0) {
      // Requests that arrived during a prefill are admitted before the next step: a decode
      // step would only delay their first token.
      while (this.waiting.length > 0 && this.active.length < this.slots) await this.admit();
      await this.dropCancelled();
      if (this.active.length === 0) continue;
      // Each active sequence has a sampled token that is not fed yet. Feed them all as one
      // batch, and meanwhile turn the previous step's tokens into text (the tokenizer runs in
      // its own thread), as the single-sequence loop overlaps them.
      const stepping = this.active.filter((s) => !s.final);
      const step = stepping.length > 0 ? this.settle(this.pass(stepping.map((s) => ({ slot: s.slot, tokens: [s.next], length: s.length })))) : null;
      await Promise.all(this.active.filter((s) => s.unsent).map((s) => this.sendText(s)));
      const result = step ? await step : null;
      if (result && 'error' in result) {
        // A failed step may have left any slot half written: nothing cached is trusted.
        this.parked.fill([]);
        for (const s of this.active.splice(0)) await this.finish(s, 'error', `generation failed: ${firstLine(result.error)}`, false);
        continue;
      }
      for (const s of [...this.active]) {
        const at = stepping.indexOf(s);
        if (at !== -1) s.length++;
        const ended: DoneReason | null = s.reply.hitStop ? 'stop' : s.final ? 'length' : at === -1 ? null : this.sample(s, result!.logits[at]!);
        if (ended === null) continue;
        this.active.splice(this.active.indexOf(s), 1);
        await this.finish(s, ended, undefined, true);
      }
    }
  }

  private settle(step: Promise<Float32Array[]>): Promise<{ logits: Float32Array[] } | { error: unknown }> {
    return step.then(
      (logits) => ({ logits }),
      (error: unknown) => ({ error }),
    );
  }

  private async dropCancelled(): Promise<void> {
    for (const s of this.active.filter((x) => this.cancelled.has(x.id))) {
      this.active.splice(this.active.indexOf(s), 1);
      await this.finish(s, 'cancelled', undefined, true);
    }
  }

  /**
   * Admits every waiting request there is room for: tokenises them, gives each a slot (the
   * one sharing the longest prefix with it), prefills them together in chunks, and streams
   * each one's first token.
   */
  private async admit(): Promise<void> {
    const { tokenizer, info } = this.model;
    const arrivals = this.waiting.splice(0, this.slots - this.active.length);
    const base = { promptTokens: 0, generated: 0, ttftMs: 0, tokensPerSecond: 0, text: '' };
    let encoded: number[][];
    try {
      encoded = await tokenizer.encode(arrivals.map((w) => w.prompt));
    } catch (err) {
      for (const w of arrivals) this.done(w.id, 'error', base, `generation failed: ${firstLine(err)}`);
      return;
    }
    const admitted: { s: Sequence; rest: number[] }[] = [];
    arrivals.forEach((w, i) => {
      let promptIds = encoded[i]!;
      // An empty prompt starts from BOS (GPT-2's is its <|endoftext|>), else the first end id.
      if (promptIds.length === 0) {
        const seed = tokenizer.info.bos?.id ?? info.eosTokenIds[0];
        if (seed !== undefined) promptIds = [seed];
      }
      const params = { ...w.params, maxNewTokens: replyTokens(promptIds.length, w.params.maxNewTokens, info.contextLength, w.params.fitToContext) };
      const limitError = checkLimit(promptIds.length, params.maxNewTokens, info.contextLength);
      if (limitError) return this.done(w.id, 'error', { ...base, promptTokens: promptIds.length }, limitError, 'over-limit');
      const picked = this.pickSlot(promptIds, admitted.map((a) => a.s.slot));
      const slot = picked.slot;
      // A format that rewrites earlier text as turns are added gets a fresh prefill.
      const reused = w.params.reusePrefix === false ? 0 : picked.reused;
      this.parked[slot] = [];
      const s: Sequence = {
        id: w.id,
        params,
        slot,
        promptIds,
        reusedTokens: reused,
        length: reused,
        next: -1,
        unsent: false,
        final: false,
        generated: [],
        seen: new Set(promptIds),
      ends: new Set([...info.eosTokenIds, ...specialStopIds(w.params.stop ?? [], tokenizer.info.specialTokens)]),
        rng: createRng(w.params.seed ?? (Math.random() * 2 ** 31) | 0),
        reply: new ReplyText(w.params.stop ?? []),
        detokenizer: tokenizer.incremental(),
        started: w.arrived,
        firstAt: 0,
        lastAt: 0,
      };
      this.admitted.add(s.id);
      admitted.push({ s, rest: promptIds.slice(reused) });
    });

    // Chunks of every newcomer's prompt go through together; a cancel is heard between chunks.
    let prefilling = admitted;
    while (prefilling.length > 0) {
      const gone = prefilling.filter((x) => this.cancelled.has(x.s.id));
      for (const a of gone) await this.finish(a.s, 'cancelled', undefined, true);
      prefilling = prefilling.filter((x) => !gone.includes(x));
      if (prefilling.length === 0) break;
      const chunks = prefilling.map((a) => a.rest.splice(0, PREFILL_CHUNK));
      let logits: Float32Array[];
      try {
        logits = await this.pass(prefilling.map((a, i) => ({ slot: a.s.slot, tokens: chunks[i]!, length: a.s.length })));
      } catch (err) {
        for (const a of prefilling) {
          this.parked[a.s.slot] = [];
          await this.finish(a.s, 'error', `generation failed: ${firstLine(err)}`, false);
        }
        return;
      }
      const still: typeof prefilling = [];
      const prefilled: { s: Sequence; ended: DoneReason | null }[] = [];
      for (let i = 0; i < prefilling.length; i++) {
        const { s, rest } = prefilling[i]!;
        s.length += chunks[i]!.length;
        if (rest.length > 0) still.push(prefilling[i]!);
        else prefilled.push({ s, ended: this.sample(s, logits[i]!) });
      }
      // First tokens go out together: one tokenizer round trip's wait, not one per newcomer.
      await Promise.all(prefilled.filter((p) => p.ended === null).map((p) => this.sendText(p.s)));
      for (const { s, ended } of prefilled) {
        const outcome = ended ?? (s.reply.hitStop ? 'stop' : s.final ? 'length' : null);
        if (outcome !== null) await this.finish(s, outcome, undefined, true);
        else this.active.push(s);
      }
      prefilling = still;
    }
  }

  /**
   * One pass of the decoder over `entries`, with the store fitted to what the other slots
   * hold: the active sequences outside the pass keep their caches whole, parked caches keep
   * what the capacity still reaches, and their records are cut to match.
   */
  private async pass(entries: { slot: number; tokens: number[]; length: number }[]): Promise<Float32Array[]> {
    const inPass = new Set(entries.map((e) => e.slot));
    const live = Math.max(0, ...this.active.filter((s) => !inPass.has(s.slot)).map((s) => s.length));
    const parked = Math.max(0, ...this.parked.map((p, slot) => (inPass.has(slot) ? 0 : p.length)));
    try {
      return await this.decoder.step(entries, { live, parked });
    } finally {
      const capacity = this.decoder.store.capacity;
      this.parked.forEach((p, slot) => {
        if (p.length > capacity) this.parked[slot] = p.slice(0, capacity);
      });
    }
  }

  /** The slot for a prompt: an idle one whose cache shares its longest prefix, else the least recently used. */
  private pickSlot(promptIds: readonly number[], taken: readonly number[]): { slot: number; reused: number } {
    const busy = new Set([...this.active.map((s) => s.slot), ...taken]);
    let best = -1;
    let bestReuse = -1;
    for (let slot = 0; slot < this.slots; slot++) {
      if (busy.has(slot)) continue;
      const reuse = Math.max(0, Math.min(commonPrefixLength(this.parked[slot]!, promptIds), promptIds.length - 1));
      // Most reuse wins; on a tie the least recently used slot (a fresh one first), keeping recent caches.
      if (reuse > bestReuse || (reuse === bestReuse && this.lastUsed[slot]! < this.lastUsed[best]!)) {
        best = slot;
        bestReuse = reuse;
      }
    }
    this.lastUsed[best] = ++this.clock;
    return { slot: best, reused: bestReuse };
  }

  /** Samples the next token (not fed, not sent yet); 'eos' when the sequence ends instead. */
  private sample(s: Sequence, logits: Float32Array): DoneReason | null {
    if (s.generated.length < (s.params.minNewTokens ?? 0)) for (const e of s.ends) logits[e] = -Infinity;
    const token = sampleNextToken(logits, s.params, s.seen, s.rng);
    if (s.ends.has(token)) return 'eos';
    s.generated.push(token);
    s.seen.add(token);
    s.next = token;
    s.unsent = true;
    s.final = s.generated.length >= s.params.maxNewTokens;
    s.lastAt = performance.now();
    if (s.generated.length === 1) s.firstAt = s.lastAt;
    return null;
  }

  /** Streams the text the newest token adds (held back while it could begin a stop sequence). */
  private async sendText(s: Sequence): Promise<void> {
    s.unsent = false;
    const piece = await s.detokenizer.push(s.next);
    this.send({ type: 'token', id: s.id, text: s.reply.append(piece), tokenId: s.next });
  }

  private async finish(s: Sequence, reason: DoneReason, error: string | undefined, keepCache: boolean): Promise<void> {
    this.cancelled.delete(s.id);
    this.admitted.delete(s.id);
    // The cache holds the prompt and every generated token that was fed back.
    if (keepCache) this.parked[s.slot] = [...s.promptIds, ...s.generated].slice(0, s.length);
    let failure = error;
    let finalReason = reason;
    if (reason !== 'stop') {
      try {
        // A sequence cancelled or failed between sampling and sending still has its last token.
        const unsent = s.unsent ? await s.detokenizer.push(s.next) : '';
        s.unsent = false;
        const rest = s.reply.end(unsent + (await s.detokenizer.finish()));
        if (rest) this.send({ type: 'token', id: s.id, text: rest, tokenId: -1 });
        // The held text can still complete a stop sequence.
        if (s.reply.hitStop && (reason === 'eos' || reason === 'length')) finalReason = 'stop';
      } catch (err) {
        finalReason = 'error';
        failure ??= `generation failed: ${firstLine(err)}`;
      }
    }
    const n = s.generated.length;
    const seconds = (s.lastAt - s.firstAt) / 1000;
    this.done(
      s.id,
      finalReason,
      {
        promptTokens: s.promptIds.length,
        generated: n,
        ttftMs: n > 0 ? s.firstAt - s.started : 0,
        tokensPerSecond: n > 1 && seconds > 0 ? (n - 1) / seconds : 0,
        text: s.reply.text,
        reusedTokens: s.reusedTokens,
      },
      failure,
    );
  }

  private done(
    id: number,
    reason: DoneReason,
    stats: { promptTokens: number; generated: number; ttftMs: number; tokensPerSecond: number; text: string; reusedTokens?: number },
    error?: string,
    errorCode?: 'over-limit',
  ): void {
    this.send({
      type: 'done',
      id,
      reason,
      promptTokens: stats.promptTokens,
      generatedTokens: stats.generated,
      ttftMs: stats.ttftMs,
      tokensPerSecond: stats.tokensPerSecond,
      ...(stats.reusedTokens !== undefined ? { reusedTokens: stats.reusedTokens } : {}),
      text: stats.text,
      ...(error ? { error } : {}),
      ...(errorCode ? { errorCode } : {}),
    });
  }
}

function firstLine(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0]! : String(err);
}
