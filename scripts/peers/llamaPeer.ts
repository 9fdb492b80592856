// The Llama family in `npm run bench:peers`: the SmolLM2-135M and Qwen2.5-0.5B shapes with
// random weights on Parley's graph (fp32, q8, q4; made once into .cache/models), their GGUFs,
// the peaked models of the greedy check, and the export as it is beside Parley's graph.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Dtype } from '../../src/engine/protocol.js';
import { prepareGraph } from '../../src/engine/load/convertedGraph.js';
import { findOnnxFile } from '../../src/hub/dtypeFiles.js';
import { type LlamaDims, llamaDimsFromConfig } from '../../src/graph/llamaWeights.js';
import { LLAMA_SHAPES, type LlamaShapeName, generatedLlamaParams, makeLlamaModelFolder } from '../../src/graph/makeLlamaFolder.js';
import { MODEL_GENERATOR_VERSION, type PeakedScales } from '../../src/graph/makeModelFolder.js';
import { MODELS_CACHE_DIR, REPO_ROOT } from '../../test/helpers/fixtures.js';
import { log, round } from '../benchStats.js';
import type { GgufType } from '../gguf/ggufFile.js';
import { writeLlamaGguf } from '../gguf/llamaGguf.js';
import type { LlamaCpp } from '../llamaCppPeer.js';
import { type GreedyCheck, greedyCheck } from './greedyCheck.js';
import { type Figures, alternate, parleyCase, ratiosOf } from './peerFigures.js';
import { cachedGguf } from './peerGguf.js';

export type { LlamaShapeName };
export const LLAMA_SHAPE_NAMES = Object.keys(LLAMA_SHAPES) as LlamaShapeName[];

const SEED = 1;
const PEAKED: PeakedScales = { embedding: 5, mlpOutput: 40 };
const LLAMA3_SCALING = { factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalMaxPositions: 8192 };
const small = { layers: 4, heads: 4, kvHeads: 2, headDim: 64, hidden: 256, inner: 512, positions: 2048, tied: true } as const;
/** The greedy check's models: small, peaked, one per arch; the llama one with Llama-3's rope scaling (rope_freqs). */
const CHECK_DIMS: Record<LlamaDims['arch'], LlamaDims> = {
  llama: { arch: 'llama', ...small, vocabSize: 49152, rmsNormEps: 1e-5, ropeTheta: 500000, ropeScaling: LLAMA3_SCALING, qkvBias: false },
  qwen2: { arch: 'qwen2', ...small, vocabSize: 50304, rmsNormEps: 1e-6, ropeTheta: 1000000, qkvBias: true },
};

interface Generated {
  dims: LlamaDims;
  seed: number;
  peaked?: PeakedScales;
}

const canonical = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v,
  );

async function isUpToDate(folder: string, model: Generated, files: readonly string[]): Promise<boolean> {
  try {
    const config = JSON.parse(await readFile(path.join(folder, 'config.json'), 'utf8')) as Record<string, unknown>;
    const stamp = config['parley_generator'] as { version?: number; seed?: number; peaked?: PeakedScales } | undefined;
    return (
      stamp?.version === MODEL_GENERATOR_VERSION &&
      stamp.seed === model.seed &&
      canonical(stamp.peaked ?? null) === canonical(model.peaked ?? null) &&
      canonical(llamaDimsFromConfig(config)) === canonical(model.dims) &&
      files.every((f) => existsSync(path.join(folder, f)))
    );
  } catch {
    return false;
  }
}

/** `.cache/models/<name>`: the generated model, made (beside, then renamed in) when missing or stale. */
async function modelFolder(name: string, model: Generated, quantized: boolean): Promise<string> {
  const folder = path.join(MODELS_CACHE_DIR, name);
  const files = [
    'config.json',
    'tokenizer.json',
    'onnx/model.onnx',
    ...(quantized ? ['onnx/model_quantized.onnx', 'onnx/model_q4.onnx'] : []),
  ];
  if (await isUpToDate(folder, model, files)) return folder;
  log(`generating ${name} (make-model --arch ${model.dims.arch})…`);
  const temp = `${folder}.tmp-${process.pid}`;
  await mkdir(MODELS_CACHE_DIR, { recursive: true });
  await makeLlamaModelFolder({
    out: temp,
    dims: model.dims,
    seed: model.seed,
    q8: quantized,
    q4: quantized,
    ...(model.peaked ? { peaked: model.peaked } : {}),
  });
  await rm(folder, { recursive: true, force: true });
  await rename(temp, folder);
  return folder;
}

function llamaGguf(name: string, model: Generated, type: GgufType, tokenizerFolder: string): Promise<string> {
  return cachedGguf(name, type, (file) => writeLlamaGguf(file, model.dims, generatedLlamaParams(model), type, tokenizerFolder));
}

/** A Llama-family shape with random weights: its folder (fp32, q8, q4) and its GGUF in `type`. */
export async function llamaShapePeer(
  shape: LlamaShapeName,
): Promise<{ folder: string; dims: LlamaDims; gguf: (type: GgufType) => Promise<string> }> {
  const model = { dims: LLAMA_SHAPES[shape], seed: SEED };
  const name = `${shape}-random`;
  const folder = await modelFolder(name, model, true);
  return { folder, dims: model.dims, gguf: (type) => llamaGguf(name, model, type, folder) };
}

/** The greedy check on a small peaked model of `arch`. */
export async function llamaGreedyCheck(peer: LlamaCpp, arch: LlamaDims['arch']): Promise<GreedyCheck> {
  const model = { dims: CHECK_DIMS[arch], seed: 7, peaked: PEAKED };
  const name = `${arch}-peaked-e${PEAKED.embedding}-m${PEAKED.mlpOutput}`;
  const folder = await modelFolder(name, model, false);
  return greedyCheck(peer, folder, await llamaGguf(name, model, 'F32', folder));
}

export interface AsIsRow {
  shape: LlamaShapeName;
  dtype: Dtype;
  context: number;
  /** What Parley's graph was: converted from the export (and how long that took), or the generated folder of the shape. */
  parleyGraph: string;
  parley: Figures;
  asIs: Figures;
  /** Parley's graph ÷ the export as it is. */
  ratios: Figures;
}

/**
 * The export as it is (`exportDir`, a hub-style Optimum folder of the shape, run with conversion
 * off) beside Parley's graph converted from it, alternating; where Parley does not convert it,
 * beside the generated folder of the same shape. Dtypes the export has no file for are skipped.
 */
export async function asIsRows(
  shape: LlamaShapeName,
  exportDir: string,
  generatedFolder: string,
  dtypes: readonly Dtype[],
  contexts: readonly number[],
  rounds: number,
): Promise<AsIsRow[]> {
  const rows: AsIsRow[] = [];
  const cacheDir = path.join(REPO_ROOT, '.cache', 'peers', 'converted-cache');
  for (const dtype of dtypes) {
    if (!findOnnxFile(dtype, (f) => existsSync(path.join(exportDir, f)))) {
      log(`${shape} ${dtype}: the export has no ${dtype} file; no export-as-is row`);
      continue;
    }
    const started = performance.now();
    const choice = await prepareGraph({
      sourceFolder: exportDir,
      ref: exportDir,
      isHub: false,
      cacheDir,
      dtype,
      noConvert: false,
      onProgress: () => {},
    });
    const seconds = round((performance.now() - started) / 1000);
    const parleyFolder = choice?.folder ?? generatedFolder;
    const parleyGraph = choice?.folder
      ? `${choice.info.note} (${seconds} s)`
      : `generated (${choice?.info.note ?? 'not converted: not a GPT-2 export'})`;
    log(`${shape} ${dtype}: Parley's graph: ${parleyGraph}`);
    for (const n of contexts) {
      const [parley, asIs] = await alternate(rounds, [
        () => parleyCase(parleyFolder, dtype, n),
        () => parleyCase(exportDir, dtype, n, { noConvert: true }),
      ]);
      const row = { shape, dtype, context: n, parleyGraph, parley: parley!, asIs: asIs!, ratios: ratiosOf(parley!, asIs!) };
      log(JSON.stringify(row));
      rows.push(row);
    }
  }
  return rows;
}
