// Continuous batching in the engine worker: requests that arrive while others generate join
// them. Each loop admits at most one waiting request (its prefill runs between two decode
// steps), then runs one decode step of every active sequence as a single batch. A sequence
// that ends parks its slot with the token ids its cache holds, so a client that resends a
// growing conversation has its prefix reused (the prefix cache of the batched path).
import type { FromWorker, GenerateParams } from './protocol.js';
import type { LoadedModel } from './modelLoader.js';
import { BatchDecoder } from './batchDecoder.js';
import { checkLimit } from './contextLimit.js';
import { commonPrefixLength } from './prefixCache.js';
import { ReplyText } from './replyText.js';
import { createRng, sampleNextToken } from './sampling.js';

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
  generated: number[];
  seen: Set<number>;
  rng: () => number;
  reply: ReplyText;
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
    this.running ??= this.loop().finally(() => (this.running = null));
  }

  /** Stops a request within one step; one still waiting ends at once. */
  cancel(id: number): void {
    const at = this.waiting.findIndex((w) => w.id === id);
    if (at !== -1) {
      const [w] = this.waiting.splice(at, 1);
      this.done(w!.id, 'cancelled', { promptTokens: 0, generated: 0, ttftMs: 0, tokensPerSecond: 0, text: '' });
      return;
    }
    if (this.active.some((s) => s.id === id)) this.cancelled.add(id);
  }

  /** Cancels everything and waits until the loop has stopped (before a model change). */
  async stop(): Promise<void> {
    for (const w of [...this.waiting]) this.cancel(w.id);
    for (const s of this.active) this.cancelled.add(s.id);
    await this.running;
  }

  private async loop(): Promise<void> {
    while (this.waiting.length > 0 || this.active.length > 0) {
      if (this.waiting.length > 0 && this.active.length < this.slots) await this.admit(this.waiting.shift()!);
      await this.dropCancelled();
      if (this.active.length === 0) continue;
      let logits: Float32Array[];
      try {
        logits = await this.decoder.step(this.active.map((s) => ({ slot: s.slot, token: s.next, length: s.length })));
      } catch (err) {
        // A failed step may have left any slot half written: nothing cached is trusted.
        this.parked.fill([]);
        for (const s of this.active.splice(0)) await this.finish(s, 'error', `generation failed: ${firstLine(err)}`, false);
        continue;
      }
      for (const s of this.active) s.length++;
      const stepped = [...this.active];
      const outcomes = await Promise.all(stepped.map((s, i) => this.advance(s, logits[i]!)));
      for (let i = 0; i < stepped.length; i++) {
        const outcome = outcomes[i];
        if (outcome === null || outcome === undefined) continue;
        this.active.splice(this.active.indexOf(stepped[i]!), 1);
        await this.finish(stepped[i]!, outcome, undefined, true);
      }
    }
  }

  private async dropCancelled(): Promise<void> {
    for (const s of this.active.filter((x) => this.cancelled.has(x.id))) {
      this.active.splice(this.active.indexOf(s), 1);
      await this.finish(s, 'cancelled', undefined, true);
    }
  }

  /** Tokenises, picks a slot (the one sharing the longest prefix), prefills, samples the first token. */
  private async admit(w: Waiting): Promise<void> {
    const { tokenizer, info } = this.model;
    const base = { promptTokens: 0, generated: 0, ttftMs: 0, tokensPerSecond: 0, text: '' };
    let promptIds: number[];
    try {
      promptIds = (await tokenizer.encode([w.prompt]))[0]!;
    } catch (err) {
      return this.done(w.id, 'error', base, `generation failed: ${firstLine(err)}`);
    }
    if (promptIds.length === 0 && info.eosTokenIds.length > 0) promptIds = [info.eosTokenIds[0]!];
    const limitError = checkLimit(promptIds.length, w.params.maxNewTokens, info.contextLength);
    if (limitError) return this.done(w.id, 'error', { ...base, promptTokens: promptIds.length }, limitError);

    const { slot, reused } = this.pickSlot(promptIds);
    this.parked[slot] = [];
    const s: Sequence = {
      id: w.id,
      params: w.params,
      slot,
      promptIds,
      reusedTokens: reused,
      length: reused,
      next: -1,
      generated: [],
      seen: new Set(promptIds),
      rng: createRng(w.params.seed ?? (Math.random() * 2 ** 31) | 0),
      reply: new ReplyText(w.params.stop ?? []),
      started: w.arrived,
      firstAt: 0,
      lastAt: 0,
    };
    let logits: Float32Array | null;
    try {
      const result = await this.decoder.prefill(slot, promptIds.slice(reused), reused, () => this.cancelled.has(w.id));
      s.length = result.length;
      logits = result.logits;
    } catch (err) {
      return this.finish(s, 'error', `generation failed: ${firstLine(err)}`, false);
    }
    if (!logits || this.cancelled.has(w.id)) return this.finish(s, 'cancelled', undefined, true);
    const outcome = await this.advance(s, logits);
    if (outcome !== null) return this.finish(s, outcome, undefined, true);
    this.active.push(s);
  }

  /** The slot for a prompt: an idle one whose cache shares its longest prefix, else the least recently used. */
  private pickSlot(promptIds: readonly number[]): { slot: number; reused: number } {
    const busy = new Set(this.active.map((s) => s.slot));
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

  /** Samples the next token from `logits` and streams it; the reason the sequence ends, or null. */
  private async advance(s: Sequence, logits: Float32Array): Promise<DoneReason | null> {
    const eos = this.model.info.eosTokenIds;
    if (s.generated.length < (s.params.minNewTokens ?? 0)) for (const e of eos) logits[e] = -Infinity;
    const token = sampleNextToken(logits, s.params, s.seen, s.rng);
    if (eos.includes(token)) return 'eos';
    s.generated.push(token);
    s.seen.add(token);
    s.next = token;
    s.lastAt = performance.now();
    if (s.generated.length === 1) s.firstAt = s.lastAt;
    const text = await this.model.tokenizer.decode(s.generated);
    this.send({ type: 'token', id: s.id, text: s.reply.update(text), tokenId: token });
    if (s.reply.hitStop) return 'stop';
    if (s.generated.length >= s.params.maxNewTokens) return 'length';
    return null;
  }

  private async finish(s: Sequence, reason: DoneReason, error: string | undefined, keepCache: boolean): Promise<void> {
    this.cancelled.delete(s.id);
    // The cache holds the prompt and every generated token that was fed back.
    if (keepCache) this.parked[s.slot] = [...s.promptIds, ...s.generated].slice(0, s.length);
    let failure = error;
    let finalReason = reason;
    if (reason !== 'stop') {
      try {
        const rest = s.reply.finish(await this.model.tokenizer.decode(s.generated));
        if (rest) this.send({ type: 'token', id: s.id, text: rest, tokenId: -1 });
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
    });
  }
}

function firstLine(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0]! : String(err);
}
