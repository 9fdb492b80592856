// EngineWorker: the thread that owns the model. onnxruntime's run blocks its calling thread,
// so no forward pass may ever run on the UI thread; everything model-related lives here.
import '../float16Feeds.js';
import { parentPort, workerData } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import type { ErrorCode, FromWorker, LoadOptions, ToWorker, WorkerData } from '../protocol.js';
import { unknownModelMessage, resolveModelRef } from '../load/modelRefs.js';
import { LoadError, loadModel, type LoadedModel } from '../load/modelLoader.js';
import { DEMO_MODEL_DIR } from '../load/demoModel.js';
import { PrefixCache } from '../decode/prefixCache.js';
import { BatchDecoder } from '../batch/batchDecoder.js';
import { BatchScheduler } from '../batch/batchScheduler.js';
import { generateSingle } from '../generate/singleSequence.js';
import { ensureHubModelOrSource } from '../load/hubConversionSource.js';
import { currentHubEndpoint } from '../../hub/currentHubEndpoint.js';
import { HubError, type HubErrorCode } from '../../hub/hubError.js';
import { errorMessage } from '../../errors.js';
import { TokenCoalescer } from './tokenCoalescer.js';

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

const coalescer = new TokenCoalescer((msg) => port.postMessage(msg), data.tokenBurstMs);
const send = (msg: FromWorker): void => coalescer.send(msg);

port.on('message', (msg: ToWorker) => {
  // Heard at once, not after what is queued: a batched generation stops within a step.
  if (msg.type === 'cancel') return scheduler?.cancel(msg.id);
  queue = queue
    .then(() => handle(msg))
    .catch((err: unknown) => {
      send({ type: 'error', id: msg.id, code: 'internal', message: errorMessage(err) });
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
      return generateSingle(
        current,
        prefixCache,
        { id: msg.id, prompt: msg.prompt, params: msg.params, cancelled: () => Atomics.load(cancelFlag, 0) === msg.id },
        send,
      );
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
    const unknown = source.kind === 'folder' ? unknownModelMessage(modelRef, existsSync(source.path)) : null;
    if (unknown !== null) throw new LoadError('model-not-found', unknown);
    const resolved = source.kind;
    let label = modelRef;
    if (source.kind === 'demo') {
      source = { kind: 'folder', path: DEMO_MODEL_DIR };
      // It ships in q8 only: that is its default, not a fallback worth a notice.
      if (options.dtypeIsDefault === true) options = { ...options, dtype: 'q8', dtypeIsDefault: false };
      label = 'demo';
    } else if (source.kind === 'hub') {
      // Parley downloads hub models itself (see src/hub) and hands transformers.js the folder.
      label = source.id;
      // An alias names the file to take when the user chose no dtype.
      const dtype = source.dtype !== undefined && options.dtypeIsDefault === true ? source.dtype : options.dtype;
      options = { ...options, dtype, dtypeIsDefault: false };
      // A dtype the repository lacks but Parley builds (q8 for SmolLM2) fetches its source file instead.
      const folder = await ensureHubModelOrSource({
        noConvert: options.noConvert ?? false,
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
          : new LoadError('internal', errorMessage(err));
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
