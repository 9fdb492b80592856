// EngineWorker: the thread that owns the model. onnxruntime's run blocks its calling thread,
// so no forward pass may ever run on the UI thread; everything model-related lives here.
import { parentPort, workerData } from 'node:worker_threads';
import path from 'node:path';
import type { FromWorker, GenerateParams, LoadOptions, ToWorker, WorkerData } from '../protocol.js';
import { resolveModelRef } from '../load/modelRefs.js';
import { LoadError, loadModel, type LoadedModel } from '../load/modelLoader.js';
import { createRng, sampleNextToken } from '../generate/sampling.js';
import { ReplyText } from '../reply/replyText.js';
import { specialStopIds } from '../reply/stopSequences.js';
import { ensureDemoModel } from '../load/demoModel.js';
import { checkLimit, replyTokens } from '../generate/contextLimit.js';
import { PrefixCache } from '../decode/prefixCache.js';
import type { KvCache } from '../decode/kvCache.js';
import { BatchDecoder } from '../batch/batchDecoder.js';
import { BatchScheduler } from '../batch/batchScheduler.js';
import { ensureHubModel } from '../../hub/ensureHubModel.js';
import { touchLastUsed } from '../../hub/modelCache.js';
import { currentHubEndpoint } from '../../hub/currentHubEndpoint.js';
import { HubError, type HubErrorCode } from '../../hub/hubError.js';
import type { ErrorCode } from '../protocol.js';

const port = parentPort;
if (!port) throw new Error('engineWorker must run in a worker thread');
const data = workerData as WorkerData;
const cancelFlag = new Int32Array(data.cancelFlag);

let current: LoadedModel | null = null;
// Belongs to `current`: cleared whenever the model changes.
const prefixCache = data.prefixCache ? new PrefixCache() : null;
// Requests run one at a time, in arrival order, so a tokenize never interleaves with a load.
let queue: Promise<void> = Promise.resolve();
// Continuous batching (parley serve): set while the model's graph can decode in batches.
let scheduler: BatchScheduler | null = null;

const send = (msg: FromWorker): void => port.postMessage(msg);

port.on('message', (msg: ToWorker) => {
  // Heard at once, not after what is queued: a batched generation stops within a step.
  if (msg.type === 'cancel') return scheduler?.cancel(msg.id);
  queue = queue.then(() => handle(msg)).catch((err: unknown) => {
    send({ type: 'error', id: msg.id, code: 'internal', message: err instanceof Error ? err.message : String(err) });
  });
});

async function handle(msg: ToWorker): Promise<void> {
  switch (msg.type) {
    case 'load':
      return load(msg.id, msg.modelRef, msg.options);
    case 'tokenize':
    case 'count': {
      if (!current) return send({ type: 'error', id: msg.id, code: 'no-model', message: 'no model is loaded' });
      const ids = await current.tokenizer.encode(msg.texts);
      if (msg.type === 'count') return send({ type: 'counts', id: msg.id, counts: ids.map((x) => x.length) });
      return send({ type: 'tokens', id: msg.id, ids });
    }
    case 'generate':
      if (scheduler) return scheduler.submit(msg.id, msg.prompt, msg.params);
      return generate(msg.id, msg.prompt, msg.params);
    case 'dispose':
      await scheduler?.stop();
      prefixCache?.clear();
      await current?.release();
      current = null;
      send({ type: 'disposed', id: msg.id });
      port!.close();
      return;
  }
}

async function load(id: number, modelRef: string, options: LoadOptions): Promise<void> {
  try {
    let source = resolveModelRef(modelRef, process.cwd(), process.env['HOME'] ?? process.cwd());
    const resolved = source.kind;
    let label = modelRef;
    if (source.kind === 'demo') {
      send({ type: 'progress', id, progress: { kind: 'loading', file: 'generating the demo model' } });
      const folder = await ensureDemoModel(path.join(data.cacheDir, 'demo-gpt2'));
      await touchLastUsed(folder);
      source = { kind: 'folder', path: folder };
      label = 'demo';
    } else if (source.kind === 'hub') {
      // Parley downloads hub models itself (see src/hub) and hands transformers.js the folder.
      label = source.id;
      // An alias names the file to take when the user chose no dtype.
      const dtype = source.dtype !== undefined && options.dtypeIsDefault === true ? source.dtype : options.dtype;
      options = { ...options, dtype, dtypeIsDefault: false };
      const folder = await ensureHubModel({
        cacheDir: data.cacheDir,
        endpoint: currentHubEndpoint().url,
        repoId: source.id,
        dtype,
        offline: options.offline,
        ref: modelRef,
        onProgress: (p) => send({ type: 'progress', id, progress: { kind: 'download', ...p } }),
        onWait: () =>
          send({ type: 'progress', id, progress: { kind: 'loading', file: `waiting for another Parley process downloading ${label}` } }),
      });
      source = { kind: 'folder', path: folder };
    }
    const loaded = await loadModel(source, { ...options, cacheDir: data.cacheDir, label }, (progress) =>
      send({ type: 'progress', id, progress }),
    );
    // Only replace the old model once the new one works: a failed switch keeps the old one.
    const previous = current;
    await scheduler?.stop();
    scheduler = null;
    current = loaded;
    if ((data.batch ?? 1) > 1 && BatchDecoder.canBatch(loaded.decoder.graph)) scheduler = new BatchScheduler(loaded, data.batch!, send);
    current.info.parallel = scheduler?.slots ?? 1;
    prefixCache?.clear();
    // A generated or downloaded folder is known by its name, not its place in the cache.
    if (label !== modelRef || resolved !== 'folder') current.info.modelId = label;
    await previous?.release();
    send({ type: 'ready', id, info: current.info });
  } catch (err) {
    const e =
      err instanceof LoadError
        ? err
        : err instanceof HubError
          ? new LoadError(HUB_ERROR_CODES[err.code], err.message)
          : new LoadError('internal', err instanceof Error ? err.message : String(err));
    send({ type: 'error', id, code: e.code, message: e.message });
  }
}

const HUB_ERROR_CODES: Record<HubErrorCode, ErrorCode> = {
  'not-found': 'model-not-found',
  'not-cached': 'model-not-found',
  network: 'network',
  'disk-full': 'disk-full',
  permission: 'disk-full',
  http: 'network',
  cancelled: 'internal',
};

async function generate(id: number, prompt: string, params: GenerateParams): Promise<void> {
  const started = performance.now();
  const base = { promptTokens: 0, generatedTokens: 0, ttftMs: 0, tokensPerSecond: 0 };
  if (!current) {
    return send({ type: 'done', id, reason: 'error', ...base, text: '', error: 'no model is loaded' });
  }
  const { tokenizer, decoder, info } = current;
  let promptIds: number[];
  try {
    promptIds = (await tokenizer.encode([prompt]))[0]!;
  } catch (err) {
    return send({ type: 'done', id, reason: 'error', ...base, text: '', error: `generation failed: ${firstLine(err)}` });
  }
  // An empty prompt starts from BOS, as the model saw text start in training (GPT-2's BOS is
  // its <|endoftext|>); a tokenizer without a BOS falls back to the first end id.
  if (promptIds.length === 0) {
    const seed = tokenizer.info.bos?.id ?? info.eosTokenIds[0];
    if (seed !== undefined) promptIds = [seed];
  }
  params = { ...params, maxNewTokens: replyTokens(promptIds.length, params.maxNewTokens, info.contextLength, params.fitToContext) };
  const limitError = checkLimit(promptIds.length, params.maxNewTokens, info.contextLength);
  if (limitError) {
    return send({ type: 'done', id, reason: 'error', ...base, promptTokens: promptIds.length, text: '', error: limitError, errorCode: 'over-limit' });
  }

  const rng = createRng(params.seed ?? (Math.random() * 2 ** 31) | 0);
  const eos = new Set([...info.eosTokenIds, ...specialStopIds(params.stop ?? [], tokenizer.info.specialTokens)]);
  const seen = new Set(promptIds);
  const generated: number[] = [];
  const reply = new ReplyText(params.stop ?? []);
  const detokenizer = tokenizer.incremental();
  let reason: 'eos' | 'length' | 'stop' | 'cancelled' | 'error' = 'length';
  let firstTokenAt = 0;
  let lastTokenAt = 0;
  let error: string | undefined;
  if (params.reusePrefix === false) prefixCache?.clear();
  const reuse = prefixCache?.take(promptIds) ?? null;
  const reusedTokens = reuse?.reused ?? 0;
  let cache: KvCache | null = null;
  const cancelled = (): boolean => Atomics.load(cancelFlag, 0) === id;
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
      if (generated.length < (params.minNewTokens ?? 0)) for (const e of eos) step.logits[e] = -Infinity;
      const token = sampleNextToken(step.logits, params, seen, rng);
      if (eos.has(token)) {
        reason = 'eos';
        break;
      }
      generated.push(token);
      seen.add(token);
      lastTokenAt = performance.now();
      if (generated.length === 1) firstTokenAt = lastTokenAt;
      const last = generated.length >= params.maxNewTokens;
      // From the second token on, the text goes out once the next step has run: a window
      // decoded by the tokenizer thread (not byte-level) overlaps that step, and the UI
      // thread's work on the message falls between steps, not inside one where onnxruntime's
      // threads want both cores. (Promise.all so that a failing step is never an unhandled
      // rejection.)
      const overlap = generated.length > 1 && !last;
      const [text, next] = await Promise.all([detokenizer.push(token), overlap ? decoder.forward([token], step.cache) : null]);
      if (next) {
        step = next;
        cache = next.cache;
      }
      send({ type: 'token', id, text: reply.append(text), tokenId: token });
      if (reply.hitStop) {
        reason = 'stop';
        break;
      }
      if (last) break;
      if (!next) {
        step = await decoder.forward([token], step.cache);
        cache = step.cache;
      }
    }
  } catch (err) {
    cache = null;
    reason = 'error';
    error = `generation failed: ${firstLine(err)}`;
  }
  // Cancel is only seen between forward passes, so the cache is consistent unless one failed.
  if (cache) prefixCache?.keep([...promptIds, ...generated].slice(0, cache.length), cache);
  if (reason !== 'stop') {
    try {
      const rest = reply.end(await detokenizer.finish());
      if (rest) send({ type: 'token', id, text: rest, tokenId: -1 });
      // The held text can still complete a stop sequence.
      if (reply.hitStop && (reason === 'eos' || reason === 'length')) reason = 'stop';
    } catch (err) {
      reason = 'error';
      error ??= `generation failed: ${firstLine(err)}`;
    }
  }
  const n = generated.length;
  const decodeSeconds = (lastTokenAt - firstTokenAt) / 1000;
  send({
    type: 'done',
    id,
    reason,
    promptTokens: promptIds.length,
    generatedTokens: n,
    ttftMs: n > 0 ? firstTokenAt - started : 0,
    tokensPerSecond: n > 1 && decodeSeconds > 0 ? (n - 1) / decodeSeconds : 0,
    ...(prefixCache ? { reusedTokens } : {}),
    text: reply.text,
    ...(error ? { error } : {}),
  });
}

function firstLine(err: unknown): string {
  return err instanceof Error ? err.message.split('\n')[0]! : String(err);
}
