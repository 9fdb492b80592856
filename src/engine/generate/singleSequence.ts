// The single-sequence loop: one request at a time on the decoder session, with the KV cache
// the last request left (the prefix cache) reused for a shared prompt prefix. The request's
// own rules (limits, end ids, sampling, stops, timings) are its Sequence's.
import type { DoneReason, FromWorker, GenerateParams } from '../protocol.js';
import type { KvCache } from '../decode/kvCache.js';
import type { PrefixCache } from '../decode/prefixCache.js';
import type { GenerationModel } from './generationModel.js';
import { admit, doneMessage, generationFailed, NO_STATS } from './sequence.js';

export interface SingleRequest {
  id: number;
  prompt: string;
  params: GenerateParams;
  /** Asked between forward passes (and prefill chunks): true stops the request as 'cancelled'. */
  cancelled: () => boolean;
}

export async function generateSingle(
  model: GenerationModel | null,
  prefixCache: PrefixCache | null,
  request: SingleRequest,
  send: (msg: FromWorker) => void,
): Promise<void> {
  const { id, prompt, params, cancelled } = request;
  const started = performance.now();
  if (!model) return send(doneMessage(id, 'error', NO_STATS, 'no model is loaded'));
  const { tokenizer, decoder } = model;
  let encoded: number[];
  try {
    encoded = (await tokenizer.encode([prompt]))[0]!;
  } catch (err) {
    return send(doneMessage(id, 'error', NO_STATS, generationFailed(err)));
  }
  const admission = admit(id, encoded, params, started, model);
  if ('refused' in admission) return send(admission.refused);
  const s = admission.sequence;
  const promptIds = s.promptIds;

  let reason: DoneReason = 'length';
  let error: string | undefined;
  if (params.reusePrefix === false) prefixCache?.clear();
  const reuse = prefixCache?.take(promptIds) ?? null;
  const reusedTokens = reuse?.reused ?? 0;
  if (prefixCache) s.reusedTokens = reusedTokens;
  let cache: KvCache | null;
  try {
    // A long prompt can be stopped between its chunks, not only once it is all in.
    const prefilled = await decoder.prefill(promptIds.slice(reusedTokens), reuse?.cache ?? decoder.emptyCache(), cancelled);
    cache = prefilled.cache;
    let step = prefilled.logits ? { logits: prefilled.logits, cache: prefilled.cache } : null;
    for (;;) {
      if (!step || cancelled()) {
        reason = 'cancelled';
        break;
      }
      if (s.sample(step.logits)) {
        reason = 'eos';
        break;
      }
      const token = s.next;
      // From the second token on, the text goes out once the next step has run: a window
      // decoded by the tokenizer thread (not byte-level) overlaps that step, and the UI
      // thread's work on the message falls between steps, not inside one where onnxruntime's
      // threads want both cores. (Promise.all so that a failing step is never an unhandled
      // rejection.)
      const overlap = s.generated.length > 1 && !s.final;
      const [piece, next] = await Promise.all([s.decodeNext(), overlap ? decoder.forward([token], step.cache) : null]);
      if (next) {
        step = next;
        cache = next.cache;
      }
      send(s.show(piece));
      if (s.hitStop) {
        reason = 'stop';
        break;
      }
      if (s.final) break;
      if (!next) {
        step = await decoder.forward([token], step.cache);
        cache = step.cache;
      }
    }
  } catch (err) {
    cache = null;
    reason = 'error';
    error = generationFailed(err);
  }
  // Cancel is only seen between forward passes, so the cache is consistent unless one failed.
  if (cache) prefixCache?.keep([...promptIds, ...s.generated].slice(0, cache.length), cache);
  for (const msg of await s.finish(reason, error)) send(msg);
}
