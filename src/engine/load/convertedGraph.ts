// Chooses the graph a GPT-2 or Llama-family folder runs on: Parley's own graph converted from the
// export's best file for the dtype (conversionSources.ts: fp32, fp16, then quantized files; cached in <cache>/converted/<slug>/, checked on a probe before first
// use), or the export as it is, with the reason.
//
// Where converted graphs live, one loadable model folder per source model and dtype
// (variant `rows-<dtype>`):
//   hub repository: <cacheDir>/<owner>/<name>/parley-converted/rows-<dtype>/  (the hub cache's
//                   place for derived graphs: `parley models` lists them, `parley rm` removes them)
//   local folder:   <cacheDir>/converted/folder--<basename>--<12 hex of sha256(absolute path)>/rows-<dtype>/
// each holding config.json (the source's, plus parley_converted), the tokenizer files,
// onnx/model.onnx | model_quantized.onnx | model_q4.onnx (the dtype's file, its large tensors in
// <file>_data beside it) and
// parley-converted.json, the stamp (see ConvertStamp).

import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CONVERTED_GRAPH_VERSION, fileSha256, readExport, writeConverted } from '../../graph/convertExport.js';
import { UnrecognisedGraph } from '../../graph/graphReading.js';
import { externalDataFile } from '../../graph/externalData.js';
import { type ArchConverter, type ConvertibleExport, converterFor } from '../../graph/graphConverters.js';
import { describeSources, isExactSource, pickSource } from './conversionSources.js';
import type { Precision } from '../../graph/projection.js';
import { judgeProbe } from './probeCompare.js';
import { PROBE_PROMPT_TOKENS, PROBE_STEPS, compareGraphs, probePrompt } from './graphProbe.js';
import type { Dtype, GraphChoiceInfo, LoadProgress } from '../protocol.js';
import { convertedGraphDir } from '../../hub/modelCache.js';
import { errorLine } from '../../errors.js';

/** Under the model cache: graphs converted from local folders (hub repositories keep theirs). */
export const CONVERTED_DIR = 'converted';
const STAMP = 'parley-converted.json';
const COPIED = ['config.json', 'generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'];
const FILE_OF: Record<Precision, string> = { fp32: 'model.onnx', q8: 'model_quantized.onnx', q4: 'model_q4.onnx' };

export interface ConvertStamp {
  graphVersion: number;
  source: { ref: string; file: string; sha256: string; size: number; mtimeMs: number };
  /** Per dtype: whether it passed the probe, the probe's summary, conversion time. */
  dtypes: Partial<Record<Precision, { ok: boolean; summary: string; convertMs: number; keptQ4?: number }>>;
  /** Set when the export's graph was not recognised. */
  unrecognised?: string;
}

/** `rejected`: the dtype's converted graph failed its probe (the reason, with its figures). */
export type GraphChoice = { folder: string | null; info: GraphChoiceInfo; rejected?: string };

export interface PrepareOptions {
  /** The folder holding the export (a local folder, or the hub cache's copy). */
  sourceFolder: string;
  /** What the user named: a hub id or a folder path. */
  ref: string;
  isHub: boolean;
  cacheDir: string;
  dtype: Dtype;
  noConvert: boolean;
  onProgress: (p: LoadProgress) => void;
}

/** The folder of `ref`'s converted graph in `precision` (see the layout above). */
export function convertedFolder(cacheDir: string, ref: string, isHub: boolean, precision: Precision): string {
  const variant = `rows-${precision}`;
  if (isHub) return convertedGraphDir(cacheDir, ref, variant);
  const absolute = path.resolve(ref);
  const hash = createHash('sha256').update(absolute).digest('hex').slice(0, 12);
  return path.join(cacheDir, CONVERTED_DIR, `folder--${path.basename(absolute).replace(/[^A-Za-z0-9._-]/g, '_')}--${hash}`, variant);
}

function isPrecision(dtype: Dtype): dtype is Precision {
  return dtype === 'fp32' || dtype === 'q8' || dtype === 'q4';
}

async function readJson<T>(file: string): Promise<T | null> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as T;
  } catch {
    return null;
  }
}

async function writeJsonAtomic(file: string, value: unknown): Promise<void> {
  const temp = `${file}.tmp-${process.pid}`;
  await writeFile(temp, `${JSON.stringify(value, null, 2)}\n`);
  await rename(temp, file);
}

const asExport = (reason: string, converted = false): GraphChoice => ({ folder: null, info: { converted, note: reason } });

/**
 * The file Parley's graph in `dtype` is built from (a path in the folder), best first as
 * conversionSources.ts orders them; null when the folder has none of them.
 */
export function sourceFileFor(folder: string, dtype: Precision): string | null {
  return pickSource(dtype, (file) => existsSync(path.join(folder, file)))?.file ?? null;
}

/**
 * The converted folder to load for `dtype`, or null with the reason to run the export as is.
 * Never throws for a graph it cannot use: that falls back to the export.
 */
export async function prepareGraph(options: PrepareOptions): Promise<GraphChoice | null> {
  const { sourceFolder, dtype } = options;
  const config = await readJson<Record<string, unknown>>(path.join(sourceFolder, 'config.json'));
  const converter = config ? converterFor(config) : null;
  if (!config || !converter) return null;
  // Folders Parley generated already carry its graph.
  if (config['parley_generator'] !== undefined || config['parley_converted'] !== undefined) return null;
  if (options.noConvert) return asExport('the export as it is (conversion off)');
  if (!isPrecision(dtype)) return asExport(`the export as it is (Parley builds its graph for fp32, q8 and q4, not ${dtype})`);
  const source = pickSource(dtype, (file) => existsSync(path.join(sourceFolder, file)));
  if (!source) {
    return asExport(
      `the export as it is: Parley builds its ${dtype} graph from one of ${describeSources(dtype)} (under onnx/, or the decoder_model_merged names), which this model does not have`,
    );
  }
  const sourceFile = path.join(sourceFolder, source.file);
  try {
    return await convertOrReuse(options, sourceFile, isExactSource(source.dtype), config, converter, dtype);
  } catch (err) {
    const message = errorLine(err);
    return asExport(`the export as it is: converting it failed (${message})`);
  }
}

async function convertOrReuse(
  options: PrepareOptions,
  sourceFile: string,
  exactSource: boolean,
  config: Record<string, unknown>,
  converter: ArchConverter,
  precision: Precision,
): Promise<GraphChoice> {
  const out = convertedFolder(options.cacheDir, options.ref, options.isHub, precision);
  const stampFile = path.join(out, STAMP);
  const { size, mtimeMs } = await stat(sourceFile);
  let stamp = await readJson<ConvertStamp>(stampFile);
  // A graph built from another file (an 8-bit one, before the fp32 file came) is built again.
  if (stamp && stamp.graphVersion === CONVERTED_GRAPH_VERSION && stamp.source.file === sourceFile) {
    const same = stamp.source.size === size && stamp.source.mtimeMs === mtimeMs;
    // A touched file is hashed again: the stamp holds only if the bytes are the same.
    if (!same) {
      if (stamp.source.size === size && (await fileSha256(sourceFile)) === stamp.source.sha256) {
        stamp.source.mtimeMs = mtimeMs;
        await writeJsonAtomic(stampFile, stamp);
      } else {
        stamp = null;
      }
    }
  } else {
    stamp = null;
  }
  if (stamp?.unrecognised) return asExport(`the export as it is: ${stamp.unrecognised}`);
  const from = path.relative(options.sourceFolder, sourceFile).split(path.sep).join('/');
  const known = stamp?.dtypes[precision];
  if (known && (!known.ok || existsSync(path.join(out, 'onnx', FILE_OF[precision])))) {
    return known.ok
      ? {
          folder: out,
          info: { converted: true, note: `Parley's (converted from ${from}${keptNote(known.keptQ4)}; probe: ${known.summary})` },
        }
      : rejected(precision, from, known.summary);
  }

  const started = performance.now();
  const progress = (stage: 'reading' | 'building' | 'checking', fraction: number): void =>
    options.onProgress({ kind: 'converting', stage, fraction });
  progress('reading', 0);
  let exported;
  let sha256: string;
  try {
    ({ exported, sha256 } = await readExport(sourceFile, converter, config));
  } catch (err) {
    if (!(err instanceof UnrecognisedGraph)) throw err;
    const fresh: ConvertStamp = {
      graphVersion: CONVERTED_GRAPH_VERSION,
      source: { ref: options.ref, file: sourceFile, sha256: await fileSha256(sourceFile), size, mtimeMs },
      dtypes: {},
      unrecognised: `its graph is not one Parley recognises as ${converter.family} (${err.message})`,
    };
    await mkdir(out, { recursive: true });
    await writeJsonAtomic(stampFile, fresh);
    return asExport(`the export as it is: ${fresh.unrecognised}`);
  }
  if (stamp && stamp.source.sha256 !== sha256) stamp = null;
  stamp ??= { graphVersion: CONVERTED_GRAPH_VERSION, source: { ref: options.ref, file: sourceFile, sha256, size, mtimeMs }, dtypes: {} };

  await mkdir(path.join(out, 'onnx'), { recursive: true });
  for (const file of COPIED) {
    const from = path.join(options.sourceFolder, file);
    if (file !== 'config.json' && existsSync(from)) await copyFile(from, path.join(out, file));
  }
  await writeJsonAtomic(path.join(out, 'config.json'), {
    ...config,
    parley_converted: { graphVersion: CONVERTED_GRAPH_VERSION, source: options.ref, sha256 },
  });
  const target = path.join(out, 'onnx', FILE_OF[precision]);
  const temp = `${target}.tmp-${process.pid}`;
  try {
    await writeConverted(exported, precision, temp, (f) => progress('building', f), externalDataFile(FILE_OF[precision]));
    const convertMs = performance.now() - started;
    progress('checking', 0);
    const verdict = await probe(sourceFile, temp, exported, precision, exactSource);
    const keptQ4 = precision === 'q4' ? exported.keptQ4 : 0;
    stamp.dtypes[precision] = { ok: verdict.ok, summary: verdict.summary, convertMs: Math.round(convertMs), ...(keptQ4 ? { keptQ4 } : {}) };
    if (verdict.ok) await rename(temp, target);
    await writeJsonAtomic(stampFile, stamp);
    if (!verdict.ok) {
      await keepOnlyStamp(out);
      return rejected(precision, from, verdict.summary);
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    return {
      folder: out,
      info: {
        converted: true,
        note: `Parley's (converted from ${from}${keptNote(keptQ4)} in ${seconds} s; probe: ${verdict.summary})`,
        convertedNow: true,
      },
    };
  } finally {
    await rm(temp, { force: true });
  }
}

/** Says that a q4 graph wrote the export's own 4-bit blocks (they were Parley's scheme). */
function keptNote(keptQ4: number | undefined): string {
  return keptQ4 ? `, its 4-bit blocks kept for ${keptQ4} projections` : '';
}

/**
 * A variant that failed its probe: the export runs as it is when it has the dtype's own file;
 * `rejected` tells the loader, which otherwise refuses the dtype with this reason.
 */
function rejected(precision: Precision, from: string, summary: string): GraphChoice {
  const reason = `Parley's ${precision} graph built from ${from} failed its check against it: ${summary}`;
  return { folder: null, info: { converted: false, note: `the export as it is: ${reason}` }, rejected: reason };
}

/** A rejected variant's folder keeps its stamp (so the failure is remembered), nothing else. */
async function keepOnlyStamp(out: string): Promise<void> {
  await rm(path.join(out, 'onnx'), { recursive: true, force: true });
  await Promise.all(COPIED.map((file) => rm(path.join(out, file), { force: true })));
}

/** `exactSource` false: the source computes in float16 or from quantized weights, so even an fp32 graph differs from it by more than rounding. */
async function probe(original: string, converted: string, exported: ConvertibleExport, precision: Precision, exactSource: boolean) {
  const { vocabSize, kvHeads: heads, headDim } = exported;
  const stats = await compareGraphs(original, converted, probePrompt(vocabSize), {
    steps: PROBE_STEPS,
    heads,
    headDim,
    unoptimisedReference: true,
  });
  return judgeProbe(precision, stats, PROBE_PROMPT_TOKENS + PROBE_STEPS, exactSource);
}
