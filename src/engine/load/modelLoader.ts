import '../float16Feeds.js';
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import path from 'node:path';
import type * as ort from 'onnxruntime-node';
import type { Dtype, ErrorCode, LoadOptions, LoadProgress, ModelFacts, ModelInfo } from '../protocol.js';
import type { ModelSource } from './modelRefs.js';
import {
  type DecoderGraph,
  type KvShape,
  canPrefillFor,
  DecoderSession,
  inspectDecoderGraph,
  UnsupportedGraphError,
} from '../decode/decoderSession.js';
import {
  configNumbersProblem,
  contextLengthOf,
  endTokenIds,
  generationDefaults,
  kvShape,
  positionTableProblem,
  unsupportedReason,
  type ConfigJson,
} from './modelConfig.js';
import { describeProblem, folderFileProblem } from './folderFiles.js';
import { positionTableRows } from './positionTable.js';
import { initializerValueCount } from './onnxInitializers.js';
import { configParameterCount } from '../../graph/parameterCount.js';
import { type PickedFile, dtypesPresent, findOnnxFile, onnxFileFor, pickDtype } from '../../hub/dtypeFiles.js';
import { RemoteTokenizer } from '../tokenizer/remoteTokenizer.js';
import type { TokenizerProgress } from '../tokenizer/tokenizerProtocol.js';
import { type GraphChoice, prepareGraph, sourceFileFor } from './convertedGraph.js';
import { precisionFor } from './conversionSources.js';
import { converterFor } from '../../graph/graphConverters.js';
import { ensureHubModel } from '../../hub/ensureHubModel.js';
import { currentHubEndpoint } from '../../hub/currentHubEndpoint.js';
import { isRepoId } from '../../hub/modelCache.js';
import { startCpuProbe } from '../threads/cpuProbe.js';
import { type MachineLoad, decideSpinning, intraOpThreads, spinningFromEnv, threadingOptions } from '../threads/threading.js';
import { errorLine, errorMessage } from '../../errors.js';

/** onnxruntime's severity for "fatal only" (0 verbose … 3 error, 4 fatal). */
export const ORT_LOG_FATAL_ONLY = 4;

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
 * The session options: spinning as threading.ts decides from the machine's load (PARLEY_SPIN
 * forces it), or the benchmarks' override PARLEY_ORT_THREADING ("threads=1,spin=1,spin_us=100"),
 * which times other threading choices in the full pipeline.
 */
export async function decodeSessionOptions(
  env: Readonly<Record<string, string | undefined>>,
  measure: () => MachineLoad | Promise<MachineLoad>,
  cores: number = availableParallelism(),
): Promise<{ options: Record<string, unknown>; threading: { spinning: boolean; threads: number; why: string } }> {
  const override = env['PARLEY_ORT_THREADING'];
  if (!override) {
    const threads = intraOpThreads(cores);
    const threading = await decideSpinning(spinningFromEnv(env['PARLEY_SPIN']), measure);
    return { options: threadingOptions(threading.spinning, threads), threading: { ...threading, threads } };
  }
  const fields = new Map(override.split(',').map((kv) => kv.split('=') as [string, string]));
  const intra: Record<string, string> = { allow_spinning: fields.get('spin') ?? '0' };
  if (fields.has('spin_us')) intra['spin_duration_us'] = fields.get('spin_us')!;
  const asked = Number(fields.get('threads') ?? 0);
  const threads = asked > 0 ? asked : intraOpThreads(cores);
  return {
    options: { intraOpNumThreads: threads, extra: { session: { intra_op: intra } } },
    threading: { spinning: intra['allow_spinning'] === '1', threads, why: `PARLEY_ORT_THREADING=${override}` },
  };
}

export { onnxFileFor } from '../../hub/dtypeFiles.js';

/**
 * Loads tokenizer and model. The model's onnxruntime session is made here directly, without
 * transformers.js: only the tokenizer thread imports it, so the process holds one copy of its
 * modules, not two (about 22 MB less resident, and the worker starts sooner). Local folders are
 * checked first so the common mistakes get a sentence that names the folder and the missing file.
 */
export async function loadModel(
  source: Extract<ModelSource, { kind: 'folder' }>,
  options: LoadOptions & { cacheDir: string; label?: string },
  onProgress: (p: LoadProgress) => void,
): Promise<LoadedModel> {
  const ref = source.path;
  const label = options.label ?? ref;
  // Before anything reads a file of the folder: a FIFO or a device would hang or flood the load.
  const fileProblem = await folderFileProblem(source.path);
  if (fileProblem !== null) throw new LoadError('model-corrupt', `${label}: ${describeProblem(fileProblem)}`);
  // A GPT-2 export runs on Parley's graph converted from it when it can (the dtype asked for
  // is then built from the fp32 file); otherwise the folder's own file for the dtype.
  const cpu = startCpuProbe();
  const built = { ...options, dtype: conversionDtype(source.path, options) };
  const choice = await chooseGraph(source.path, built, onProgress);
  if (choice?.rejected) refuseRejected(source.path, built, choice.rejected, label);
  const picked: PickedFile = choice?.folder
    ? { dtype: built.dtype, file: onnxFileFor(built.dtype), stem: 'model' }
    : checkFolder(source.path, options);
  const dtype = picked.dtype;

  // Takes the tokenizer thread's copies of transformers.js's ProgressInfo.
  const progress_callback = (p: TokenizerProgress): void => {
    if (p.status === 'initiate') {
      onProgress({ kind: 'loading', ...(p.file === undefined ? {} : { file: p.file }) });
    }
  };
  onProgress({ kind: 'loading' });
  let tokenizer: RemoteTokenizer | null = null;
  let session: ort.InferenceSession | null = null;
  let prefillSession: ort.InferenceSession | null = null;
  try {
    const modelFolder = choice?.folder ?? ref;
    // The config first: a model Parley cannot drive is refused before any weights load.
    const config = await readConfig(path.join(ref, 'config.json'), label);
    const refusal = unsupportedReason(config);
    if (refusal !== null) throw new LoadError('unsupported', `${label}: Parley cannot run this model: ${refusal}`);
    const numbersProblem = configNumbersProblem(config);
    if (numbersProblem !== null) throw new LoadError('model-corrupt', `${label}: ${numbersProblem}`);
    const contextLength = contextLengthOf(config);
    const graphFile = path.join(modelFolder, picked.file);
    const tableProblem = positionTableProblem(contextLength, positionTableRows(graphFile));
    if (tableProblem !== null) throw new LoadError('model-corrupt', `${label}: ${tableProblem}`);
    tokenizer = await RemoteTokenizer.load({ ref, offline: true, cacheDir: options.cacheDir }, progress_callback);
    const loadedTokenizer = tokenizer;
    const sessionOptions = await decodeSessionOptions(process.env, () => cpu.finish());
    onProgress({ kind: 'loading', file: picked.file });
    const { InferenceSession } = await import('onnxruntime-node');
    // onnxruntime's own log lines would land on the user's terminal; its errors reach us as exceptions.
    // From a path, onnxruntime reads the file (and any external data beside it) itself.
    session = await InferenceSession.create(graphFile, {
      ...sessionOptions.options,
      executionProviders: ['cpu'],
      logSeverityLevel: ORT_LOG_FATAL_ONLY,
    });
    const prefillFile = prefillFileFor(process.env, dtype, modelFolder, (file) => existsSync(path.join(modelFolder, file)));
    const shape = kvShape(config);
    if (shape === null)
      throw new LoadError('unsupported', `${label}: config.json does not give the layer count, attention heads and hidden size`);
    const graph = inspectDecoderGraph(session, shape);
    prefillSession =
      prefillFile === null ? null : await compatiblePrefill(InferenceSession, prefillFile, sessionOptions.options, graph, shape);
    const generationConfig = await readGenerationConfig(path.join(modelFolder, 'generation_config.json'));
    const tokenizerInfo = loadedTokenizer.info;
    const info: ModelInfo = {
      modelId: ref,
      contextLength,
      vocabSize: typeof config['vocab_size'] === 'number' ? config['vocab_size'] : 50257,
      eosTokenIds: endTokenIds(config, generationConfig, tokenizerInfo.eosTokenId),
      dtype,
      hasChatTemplate: loadedTokenizer.chatTemplate !== null,
      chatTemplate: loadedTokenizer.chatTemplate,
      randomWeights: config['parley_random_weights'] === true,
      ...demoDescription(config),
      bosToken: tokenizerInfo.addsBos && tokenizerInfo.bos ? tokenizerInfo.bos.content : null,
      maxTokenBytes: tokenizerInfo.maxTokenBytes ?? null,
      ...(choice ? { graph: choice.info } : {}),
      threading: sessionOptions.threading,
      ...(prefillSession && prefillFile ? { prefillFile } : {}),
      generationDefaults: generationDefaults(generationConfig),
      facts: {
        modelType: typeof config['model_type'] === 'string' ? config['model_type'] : null,
        ...parameterFacts(config, graphFile),
        onnxFile: graphFile,
        folder: ref,
      },
    };
    const loadedSession = session;
    const loadedPrefill = prefillSession;
    return {
      info,
      tokenizer: loadedTokenizer,
      decoder: new DecoderSession(loadedSession, graph, info.contextLength, loadedPrefill ? { prefillSession: loadedPrefill } : {}),
      release: async () => {
        await loadedSession.release();
        await loadedPrefill?.release();
        await loadedTokenizer.release();
      },
    };
  } catch (err) {
    await session?.release().catch(() => undefined);
    await prefillSession?.release().catch(() => undefined);
    await tokenizer?.release();
    throw toLoadError(err, { ...options, dtype }, label);
  }
}

/**
 * The graph a q4 model's prompts run through, when PARLEY_Q4_PREFILL=q8 asks for it: the
 * folder's q8 file (a path in the folder), if it has one. Prefill through 8-bit integer products
 * is several times faster than through 4-bit blocks on long prompts; the price is the q8
 * weights held beside the q4 ones, so it is asked for, not the default.
 */
export function prefillFileFor(
  env: Readonly<Record<string, string | undefined>>,
  dtype: LoadOptions['dtype'],
  folder: string,
  has: (file: string) => boolean,
): string | null {
  if (dtype !== 'q4' || env['PARLEY_Q4_PREFILL'] !== 'q8') return null;
  const file = onnxFileFor('q8');
  return has(file) ? path.join(folder, file) : null;
}

/** The prefill graph's session, or null (released) when its cache layout is not the main graph's. */
async function compatiblePrefill(
  sessions: typeof ort.InferenceSession,
  file: string,
  options: Record<string, unknown>,
  main: DecoderGraph,
  shape: KvShape,
): Promise<ort.InferenceSession | null> {
  const session = await sessions.create(file, { ...options, executionProviders: ['cpu'], logSeverityLevel: ORT_LOG_FATAL_ONLY });
  try {
    if (canPrefillFor(main, inspectDecoderGraph(session, shape))) return session;
  } catch {
    // Not a graph Parley can drive: the main graph prefills alone.
  }
  await session.release();
  return null;
}

/** config.json, which checkFolder or the conversion found: one line when it is not a JSON object. */
async function readConfig(file: string, label: string): Promise<ConfigJson> {
  let config: unknown;
  try {
    config = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new LoadError('model-file-missing', `${label}: it has no config.json`);
    throw new LoadError('model-corrupt', `${label}: config.json is not valid JSON (${errorLine(err)})`);
  }
  if (config === null || typeof config !== 'object' || Array.isArray(config)) {
    throw new LoadError('model-corrupt', `${label}: config.json is not a JSON object`);
  }
  return config as ConfigJson;
}

/** generation_config.json, which a model may leave out; one that does not parse is ignored, as transformers.js did. */
async function readGenerationConfig(file: string): Promise<ConfigJson | null> {
  try {
    const value: unknown = JSON.parse(await readFile(file, 'utf8'));
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as ConfigJson) : null;
  } catch {
    return null;
  }
}

/** The hub id whose cache folder `folder` is, if it is one. */
function hubRepoOf(folder: string, cacheDir: string): string | null {
  const relative = path.relative(path.resolve(cacheDir), path.resolve(folder)).split(path.sep).join('/');
  return isRepoId(relative) ? relative : null;
}

/**
 * For a GPT-2 or Llama-family model: Parley's graph converted from the export (or the reason to run
 * the export as is). A hub model asked for in q8/q4 gets its fp32 file, which the graph is
 * built from, downloaded too.
 */
async function chooseGraph(
  folder: string,
  options: LoadOptions & { cacheDir: string },
  onProgress: (p: LoadProgress) => void,
): Promise<GraphChoice | null> {
  const repoId = hubRepoOf(folder, options.cacheDir);
  const has = (file: string): boolean => existsSync(path.join(folder, file));
  const hasFloat = findOnnxFile('fp32', has) !== null || findOnnxFile('fp16', has) !== null;
  const wanted = options.dtype === 'q8' || options.dtype === 'q4' ? options.dtype : null;
  if (repoId && wanted && !options.noConvert && !hasFloat && (await isConvertible(folder))) {
    // Online, the fp32 file is fetched (the best source); offline, or when that fails, the
    // graph is built from the quantized file at hand (prepareGraph finds it).
    const fromLocalFile = sourceFileFor(folder, wanted) !== null;
    if (options.offline && !fromLocalFile) {
      return {
        folder: null,
        info: {
          converted: false,
          note: `the export as it is: Parley builds its ${options.dtype} graph from ${onnxFileFor('fp32')}, which is not in the cache, and --offline forbids downloading it`,
        },
      };
    }
    if (!options.offline) {
      try {
        await ensureHubModel({
          cacheDir: options.cacheDir,
          endpoint: currentHubEndpoint().url,
          repoId,
          dtype: 'fp32',
          offline: false,
          onProgress: (p) => onProgress({ kind: 'download', ...p }),
        });
      } catch (err) {
        const why = errorLine(err);
        if (!fromLocalFile) {
          return {
            folder: null,
            info: {
              converted: false,
              note: `the export as it is: fetching ${onnxFileFor('fp32')} to build Parley's graph failed (${why})`,
            },
          };
        }
      }
    }
  }
  return prepareGraph({
    sourceFolder: folder,
    ref: repoId ?? folder,
    isHub: repoId !== null,
    cacheDir: options.cacheDir,
    dtype: options.dtype,
    noConvert: options.noConvert ?? false,
    onProgress,
  });
}

/**
 * The dtype Parley builds its graph in. A dtype the user chose is built as it is; with none chosen,
 * a folder without the default file builds the precision of the file it would load instead (only
 * fp16: fp32; only a 4-bit file: q4), so a user with any one file gets Parley's graph.
 */
function conversionDtype(folder: string, options: LoadOptions): Dtype {
  if (options.dtypeIsDefault !== true || options.noConvert) return options.dtype;
  const picked = pickDtype(options.dtype, false, (file) => existsSync(path.join(folder, file)));
  return picked ? precisionFor(picked.dtype) : options.dtype;
}

/** Whether Parley builds its own graph for the folder's architecture. */
async function isConvertible(folder: string): Promise<boolean> {
  try {
    const config = JSON.parse(await readFile(path.join(folder, 'config.json'), 'utf8')) as Record<string, unknown>;
    return converterFor(config) !== null;
  } catch {
    return false;
  }
}

/**
 * A converted dtype that failed its probe runs the folder's own file for that dtype; without
 * one, the dtype is refused with the check that failed and what to use instead.
 */
function refuseRejected(folder: string, options: LoadOptions, reason: string, label: string): void {
  if (pickDtype(options.dtype, true, (file) => existsSync(path.join(folder, file))) !== null) return;
  const instead = (['q8', 'fp32'] as const).filter((d) => d !== options.dtype).map((d) => `--dtype ${d}`);
  throw new LoadError('unsupported', `${label}: ${reason}; use ${instead.join(' or ')} instead`);
}

/** Checks the folder's files and says which dtype, and which file of it, to load. */
function checkFolder(folder: string, options: LoadOptions): PickedFile {
  if (!existsSync(folder)) throw new LoadError('model-not-found', `model folder not found: ${folder}`);
  if (!statSync(folder).isDirectory()) throw new LoadError('model-not-found', `not a model folder: ${folder}`);
  for (const file of ['config.json', 'tokenizer.json']) {
    if (!existsSync(path.join(folder, file))) {
      throw new LoadError('model-file-missing', `model folder ${folder} has no ${file}`);
    }
  }
  const has = (file: string): boolean => existsSync(path.join(folder, file));
  const picked = pickDtype(options.dtype, options.dtypeIsDefault !== true, has);
  if (picked === null) {
    const present = dtypesPresent(has);
    const which = options.dtypeIsDefault
      ? 'no onnx/model*.onnx or onnx/decoder_model_merged*.onnx file'
      : `no ${onnxFileFor(options.dtype)} (needed for --dtype ${options.dtype}); ${present.length ? `it has: ${present.join(', ')}` : 'it has no model file at all'}`;
    throw new LoadError('model-file-missing', `model folder ${folder} has ${which}`);
  }
  return picked;
}

function toLoadError(err: unknown, { dtype }: LoadOptions, label: string): LoadError {
  if (err instanceof LoadError) return err;
  if (err instanceof UnsupportedGraphError) return new LoadError('unsupported', `${label}: Parley cannot run this model: ${err.message}`);
  const message = errorMessage(err);
  const firstLine = message.split('\n')[0]!.slice(0, 300);
  if (/protobuf|parsing|Load model .* failed|invalid model|ONNX format/i.test(message)) {
    return new LoadError('model-corrupt', `${label}: ${onnxFileFor(dtype)} is not a valid ONNX model (${firstLine})`);
  }
  if (/not found/i.test(message)) return new LoadError('model-file-missing', `${label}: ${firstLine}`);
  return new LoadError('internal', `could not load ${label}: ${firstLine}`);
}

/** The count config.json gives for a known architecture, else the graph's initializers' values (null when the file cannot be walked). */
function parameterFacts(config: ConfigJson, graphFile: string): Pick<ModelFacts, 'parameters' | 'parametersFrom'> {
  const fromConfig = configParameterCount(config);
  if (fromConfig !== null) return { parameters: fromConfig, parametersFrom: 'config' };
  try {
    const count = initializerValueCount(graphFile);
    return { parameters: count > 0 ? count : null, parametersFrom: 'graph' };
  } catch {
    return { parameters: null, parametersFrom: 'graph' };
  }
}

/** The description a model folder gives of itself (`parley_demo.description`), bounded. */
function demoDescription(config: ConfigJson): { description?: string } {
  const demo = config['parley_demo'];
  const text = demo !== null && typeof demo === 'object' ? (demo as Record<string, unknown>)['description'] : undefined;
  return typeof text === 'string' && text.length > 0 ? { description: text.slice(0, 200) } : {};
}
