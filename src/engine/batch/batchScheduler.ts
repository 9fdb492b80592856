// Continuous batching in the engine worker: requests that arrive while others generate join
// them. Each loop admits every waiting request there is a slot for (their prefills run
// together, between two decode steps), then runs one decode step of every active sequence as
// a single batch. A sequence that ends parks its slot with the token ids its cache holds, so a
// client that resends a growing conversation has its prefix reused (the prefix cache of the
// batched path).
import { setTimeout as sleep } from 'node:timers/promises';
import type { DoneReason, FromWorker, GenerateParams } from '../protocol.js';
import { BatchDecoder } from './batchDecoder.js';
import { PREFILL_CHUNK } from '../decode/decoderSession.js';
import { commonPrefixLength } from '../decode/prefixCache.js';
import type { GenerationModel } from '../generate/generationModel.js';
import { admit, doneMessage, generationFailed, NO_STATS, type Sequence } from '../generate/sequence.js';

/** How long an idle scheduler waits for more requests before the first prefill. */
export const ADMISSION_GATHER_MS = 5;

interface Waiting {
  id: number;
  prompt: string;
  params: GenerateParams;
  arrived: number;
}

/** A request's Sequence, running in a slot of the store. */
interface Running {
  s: Sequence;
  slot: number;
  /** Positions of the slot's cache that are filled. */
  length: number;
}

export class BatchScheduler {
  private readonly decoder: BatchDecoder;
  private readonly waiting: Waiting[] = [];
  private readonly active: Running[] = [];
  /** Token ids each idle slot's cache holds (empty: nothing worth keeping). */
  private readonly parked: (readonly number[])[];
  private readonly lastUsed: number[];
  private readonly cancelled = new Set<number>();
  /** Requests past the queue (prefilling or decoding) until their done is sent. */
  private readonly admitted = new Set<number>();
  private running: Promise<void> | null = null;
  private clock = 0;

  constructor(
    private readonly model: GenerationModel,
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
    const error = generationFailed(err);
    this.parked.fill([]);
    for (const r of this.active.splice(0)) this.send(r.s.abandoned(error));
    for (const id of this.admitted) if (!this.active.some((r) => r.s.id === id)) this.send(doneMessage(id, 'error', NO_STATS, error));
    this.admitted.clear();
    this.cancelled.clear();
    for (const w of this.waiting.splice(0)) this.send(doneMessage(w.id, 'error', NO_STATS, error));
  }

  /** Stops a request within one step; one still waiting ends at once. */
  cancel(id: number): void {
    const at = this.waiting.findIndex((w) => w.id === id);
    if (at !== -1) {
      const [w] = this.waiting.splice(at, 1);
      this.send(doneMessage(w!.id, 'cancelled', NO_STATS));
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
      const stepping = this.active.filter((r) => !r.s.final);
      const step =
        stepping.length > 0 ? this.settle(this.pass(stepping.map((r) => ({ slot: r.slot, tokens: [r.s.next], length: r.length })))) : null;
      await Promise.all(this.active.filter((r) => r.s.unsent).map((r) => this.sendText(r.s)));
      const result = step ? await step : null;
      if (result && 'error' in result) {
        // A failed step may have left any slot half written: nothing cached is trusted.
        this.parked.fill([]);
        for (const r of this.active.splice(0)) await this.finish(r, 'error', generationFailed(result.error), false);
        continue;
      }
      for (const r of [...this.active]) {
        const at = stepping.indexOf(r);
        if (at !== -1) r.length++;
        const ended = this.ending(r.s) ?? (at === -1 ? null : this.sample(r.s, result!.logits[at]!));
        if (ended === null) continue;
        this.active.splice(this.active.indexOf(r), 1);
        await this.finish(r, ended, undefined, true);
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
    for (const r of this.active.filter((x) => this.cancelled.has(x.s.id))) {
      this.active.splice(this.active.indexOf(r), 1);
      await this.finish(r, 'cancelled', undefined, true);
    }
  }

  /**
   * Admits every waiting request there is room for: tokenises them, gives each a slot (the
   * one sharing the longest prefix with it), prefills them together in chunks, and streams
   * each one's first token.
   */
  private async admit(): Promise<void> {
    const arrivals = this.waiting.splice(0, this.slots - this.active.length);
    let encoded: number[][];
    try {
      encoded = await this.model.tokenizer.encode(arrivals.map((w) => w.prompt));
    } catch (err) {
      for (const w of arrivals) this.send(doneMessage(w.id, 'error', NO_STATS, generationFailed(err)));
      return;
    }
    const admitted: { r: Running; rest: number[] }[] = [];
    arrivals.forEach((w, i) => {
      const admission = admit(w.id, encoded[i]!, w.params, w.arrived, this.model);
      if ('refused' in admission) return this.send(admission.refused);
      const s = admission.sequence;
      const picked = this.pickSlot(
        s.promptIds,
        admitted.map((a) => a.r.slot),
      );
      // A format that rewrites earlier text as turns are added gets a fresh prefill.
      const reused = w.params.reusePrefix === false ? 0 : picked.reused;
      s.reusedTokens = reused;
      this.parked[picked.slot] = [];
      this.admitted.add(s.id);
      admitted.push({ r: { s, slot: picked.slot, length: reused }, rest: s.promptIds.slice(reused) });
    });

    // Chunks of every newcomer's prompt go through together; a cancel is heard between chunks.
    let prefilling = admitted;
    while (prefilling.length > 0) {
      const gone = prefilling.filter((x) => this.cancelled.has(x.r.s.id));
      for (const a of gone) await this.finish(a.r, 'cancelled', undefined, true);
      prefilling = prefilling.filter((x) => !gone.includes(x));
      if (prefilling.length === 0) break;
      const chunks = prefilling.map((a) => a.rest.splice(0, PREFILL_CHUNK));
      let logits: Float32Array[];
      try {
        logits = await this.pass(prefilling.map((a, i) => ({ slot: a.r.slot, tokens: chunks[i]!, length: a.r.length })));
      } catch (err) {
        for (const a of prefilling) {
          this.parked[a.r.slot] = [];
          await this.finish(a.r, 'error', generationFailed(err), false);
        }
        return;
      }
      const still: typeof prefilling = [];
      const prefilled: { r: Running; ended: DoneReason | null }[] = [];
      for (let i = 0; i < prefilling.length; i++) {
        const { r, rest } = prefilling[i]!;
        r.length += chunks[i]!.length;
        if (rest.length > 0) still.push(prefilling[i]!);
        else prefilled.push({ r, ended: this.sample(r.s, logits[i]!) });
      }
      // First tokens go out together: one tokenizer round trip's wait, not one per newcomer.
      await Promise.all(prefilled.filter((p) => p.ended === null).map((p) => this.sendText(p.r.s)));
      for (const { r, ended } of prefilled) {
        const outcome = ended ?? this.ending(r.s);
        if (outcome !== null) await this.finish(r, outcome, undefined, true);
        else this.active.push(r);
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
    const live = Math.max(0, ...this.active.filter((r) => !inPass.has(r.slot)).map((r) => r.length));
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
    const busy = new Set([...this.active.map((r) => r.slot), ...taken]);
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
    return s.sample(logits) ? 'eos' : null;
  }

  /** Why a sequence whose text is out ends before its next step: a stop, or a full reply. */
  private ending(s: Sequence): DoneReason | null {
    return s.hitStop ? 'stop' : s.final ? 'length' : null;
  }

  /** Streams the text the newest token adds (held back while it could begin a stop sequence). */
  private async sendText(s: Sequence): Promise<void> {
    this.send(s.show(await s.decodeNext()));
  }

  private async finish(r: Running, reason: DoneReason, error: string | undefined, keepCache: boolean): Promise<void> {
    const { s } = r;
    this.cancelled.delete(s.id);
    this.admitted.delete(s.id);
    // The cache holds the prompt and every generated token that was fed back.
    if (keepCache) this.parked[r.slot] = [...s.promptIds, ...s.generated].slice(0, r.length);
    for (const msg of await s.finish(reason, error)) this.send(msg);
  }
}
