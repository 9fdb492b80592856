import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import type * as ort from 'onnxruntime-node';
import type { Dtype, ErrorCode, LoadOptions, LoadProgress, ModelInfo } from './protocol.js';
import type { ModelSource } from './modelRefs.js';
import { DecoderSession, inspectDecoderGraph, UnsupportedGraphError } from './decoderSession.js';
import { contextLengthOf, endTokenIds, kvShape, unsupportedReason, type ConfigJson } from './modelConfig.js';
import { onnxFileFor, pickDtype } from './modelFiles.js';
import { RemoteTokenizer } from './remoteTokenizer.js';
import type { TokenizerProgress } from './tokenizerProtocol.js';

/** A failure the user can act on; `message` is one clear sentence. */
export class LoadError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface LoadedModel {
  info: ModelInfo;
  tokenizer: RemoteTokenizer;
  decoder: DecoderSession;
  release(): Promise<void>;
}

/**
 * onnxruntime's intra-op threads spin between ops by default. On two cores that spinning
 * starves everything else the engine needs a core for: V8's GC helper threads (a decode
 * step at long context allocates tens of MB of present tensors, so a GC runs nearly every
 * token) and any other process. Without it decode was about 1.6x faster at context 16 and
 * 896 on a shared 2-core machine, and GC time per token halved.
 */
const DECODE_SESSION_OPTIONS = { extra: { session: { intra_op: { allow_spinning: '0' } } } };

export { onnxFileFor } from './modelFiles.js';

/**
 * Loads tokenizer and model with transformers.js (lazily imported: only the worker ever pulls
 * in transformers.js and onnxruntime). Local folders are checked first so the common mistakes
 * get a sentence that names the folder and the missing file.
 */
export async function loadModel(
  source: Extract<ModelSource, { kind: 'folder' }>,
  options: LoadOptions & { cacheDir: string; label?: string },
  onProgress: (p: LoadProgress) => void,
): Promise<LoadedModel> {
  const { AutoConfig, AutoModelForCausalLM, env, LogLevel } = await import('@huggingface/transformers');
  env.cacheDir = options.cacheDir;
  env.allowRemoteModels = false;
  env.allowLocalModels = true;
  env.logLevel = LogLevel.ERROR;

  const ref = source.path;
  const label = options.label ?? ref;
  const dtype = checkFolder(source.path, options);

  // Takes the model's ProgressInfo and the tokenizer thread's copies of it alike.
  const progress_callback = (p: TokenizerProgress): void => {
    if (p.status === 'initiate') {
      onProgress({ kind: 'loading', ...(p.file === undefined ? {} : { file: p.file }) });
    }
  };
  const hubOptions = { progress_callback, local_files_only: true };
  onProgress({ kind: 'loading' });
  let tokenizer: RemoteTokenizer | null = null;
  try {
    // The config first: a model Parley cannot drive is refused before any weights load.
    const config = (await AutoConfig.from_pretrained(ref, hubOptions)) as unknown as ConfigJson;
    const refusal = unsupportedReason(config);
    if (refusal !== null) throw new LoadError('unsupported', `${label}: Parley cannot run this model: ${refusal}`);
    tokenizer = await RemoteTokenizer.load({ ref, offline: true, cacheDir: options.cacheDir }, progress_callback);
    const loadedTokenizer = tokenizer;
    const model = await AutoModelForCausalLM.from_pretrained(ref, {
      ...hubOptions,
      dtype,
      device: 'cpu',
      session_options: DECODE_SESSION_OPTIONS,
    });
    const sessions = (model as unknown as { sessions: Record<string, ort.InferenceSession> }).sessions;
    const session = sessions['model'] ?? sessions['decoder_model_merged'];
    if (!session) throw new LoadError('unsupported', `${label}: Parley cannot run this model: it has no decoder-only ONNX graph`);
    const shape = kvShape(config);
    if (shape === null) throw new LoadError('unsupported', `${label}: config.json does not give the layer count, attention heads and hidden size`);
    const graph = inspectDecoderGraph(session, shape);
    const generationConfig = (model as unknown as { generation_config?: ConfigJson | null }).generation_config ?? null;
    const tokenizerInfo = loadedTokenizer.info;
    const info: ModelInfo = {
      modelId: ref,
      contextLength: contextLengthOf(config),
      vocabSize: typeof config['vocab_size'] === 'number' ? config['vocab_size'] : 50257,
      eosTokenIds: endTokenIds(config, generationConfig, tokenizerInfo.eosTokenId),
      dtype,
      hasChatTemplate: loadedTokenizer.chatTemplate !== null,
      chatTemplate: loadedTokenizer.chatTemplate,
      randomWeights: config['parley_random_weights'] === true,
      bosToken: tokenizerInfo.addsBos && tokenizerInfo.bos ? tokenizerInfo.bos.content : null,
    };
    return {
      info,
      tokenizer: loadedTokenizer,
      decoder: new DecoderSession(session, graph, info.contextLength),
      release: async () => {
        await model.dispose();
        await loadedTokenizer.release();
      },
    };
  } catch (err) {
    await tokenizer?.release();
    throw toLoadError(err, { ...options, dtype }, label);
  }
}

/** Checks the folder's files and says which dtype to load from it. */
function checkFolder(folder: string, options: LoadOptions): Dtype {
  if (!existsSync(folder)) throw new LoadError('model-not-found', `model folder not found: ${folder}`);
  if (!statSync(folder).isDirectory()) throw new LoadError('model-not-found', `not a model folder: ${folder}`);
  for (const file of ['config.json', 'tokenizer.json']) {
    if (!existsSync(path.join(folder, file))) {
      throw new LoadError('model-file-missing', `model folder ${folder} has no ${file}`);
    }
  }
  const dtype = pickDtype(options.dtype, options.dtypeIsDefault !== true, (file) => existsSync(path.join(folder, file)));
  if (dtype === null) {
    const onnx = onnxFileFor(options.dtype);
    const which = options.dtypeIsDefault ? 'no onnx/model*.onnx file' : `no ${onnx} (needed for --dtype ${options.dtype})`;
    throw new LoadError('model-file-missing', `model folder ${folder} has ${which}`);
  }
  return dtype;
}

function toLoadError(
  err: unknown,
  { dtype }: LoadOptions,
  label: string,
): LoadError {
  if (err instanceof LoadError) return err;
  if (err instanceof UnsupportedGraphError) return new LoadError('unsupported', `${label}: Parley cannot run this model: ${err.message}`);
  const message = err instanceof Error ? err.message : String(err);
  const firstLine = message.split('\n')[0]!.slice(0, 300);
  if (/protobuf|parsing|Load model .* failed|invalid model|ONNX format/i.test(message)) {
    return new LoadError('model-corrupt', `${label}: ${onnxFileFor(dtype)} is not a valid ONNX model (${firstLine})`);
  }
  const unknownType = /Unsupported model type:? "?([\w-]+)"?/.exec(message);
  if (unknownType) {
    return new LoadError('unsupported', `${label}: Parley cannot run this model: transformers.js has no text-generation model of type ${unknownType[1]}`);
  }
  if (/not found/i.test(message)) return new LoadError('model-file-missing', `${label}: ${firstLine}`);
  return new LoadError('internal', `could not load ${label}: ${firstLine}`);
}
