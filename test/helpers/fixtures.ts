// Generated GPT-2 model folders shared by tests and benchmarks, cached in
// <repo>/.cache/models (git-ignored) and regenerated only when missing or stale.

import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  type GeneratorStamp,
  MODEL_GENERATOR_VERSION,
  type ModelFolderOptions,
  makeModelFolder,
} from '../../src/engine/modelGen/makeModelFolder.js';

/** dist/test/helpers/fixtures.js → the repository root. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const MODELS_CACHE_DIR = path.join(REPO_ROOT, '.cache', 'models');

export type ModelShape = Omit<ModelFolderOptions, 'out'>;

/** The shape of tinyModelDir()'s model. */
export const TINY_MODEL_SHAPE: ModelShape = { layers: 2, heads: 4, embd: 64, positions: 1024, seed: 1, q8: true };

interface ConfigFields {
  n_layer?: unknown;
  n_head?: unknown;
  n_embd?: unknown;
  n_positions?: unknown;
  parley_generator?: Partial<GeneratorStamp>;
}

/** True when `folder` holds a complete model generated from `shape` by this generator version. */
async function isUpToDate(folder: string, shape: ModelShape): Promise<boolean> {
  let config: ConfigFields;
  try {
    config = JSON.parse(await readFile(path.join(folder, 'config.json'), 'utf8')) as ConfigFields;
  } catch {
    return false;
  }
  const needed = ['tokenizer.json', 'tokenizer_config.json', 'generation_config.json', 'onnx/model.onnx'];
  if (shape.q8) needed.push('onnx/model_quantized.onnx');
  return (
    config.parley_generator?.version === MODEL_GENERATOR_VERSION &&
    config.parley_generator.seed === shape.seed &&
    config.n_layer === shape.layers &&
    config.n_head === shape.heads &&
    config.n_embd === shape.embd &&
    config.n_positions === shape.positions &&
    needed.every((file) => existsSync(path.join(folder, file)))
  );
}

/**
 * Generates into a temporary sibling and renames it into place, so an interrupted run
 * never leaves a half-written folder that looks complete. Another process (a developer
 * running tests at the same time) may win the race: its folder is then used.
 */
async function generate(folder: string, shape: ModelShape): Promise<void> {
  const unique = `${process.pid}-${Date.now()}`;
  const temp = `${folder}.tmp-${unique}`;
  await mkdir(path.dirname(folder), { recursive: true });
  try {
    await makeModelFolder({ out: temp, ...shape });
    if (existsSync(folder)) {
      // A stale folder: move it aside first, rename cannot replace a non-empty directory.
      const stale = `${folder}.stale-${unique}`;
      await rename(folder, stale).catch(() => undefined);
      await rm(stale, { recursive: true, force: true });
    }
    await rename(temp, folder).catch(async (error: unknown) => {
      if (!(await isUpToDate(folder, shape))) throw error;
    });
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
}

const pending = new Map<string, Promise<string>>();

/** The folder `.cache/models/<name>` holding a model of `shape`, generated if needed. */
export function cachedModelDir(name: string, shape: ModelShape): Promise<string> {
  const folder = path.join(MODELS_CACHE_DIR, name);
  const key = `${folder} ${JSON.stringify(shape)}`;
  let result = pending.get(key);
  if (result === undefined) {
    result = (async () => {
      if (!(await isUpToDate(folder, shape))) await generate(folder, shape);
      return folder;
    })();
    // A failure is not cached: the next call tries again.
    result.catch(() => pending.delete(key));
    pending.set(key, result);
  }
  return result;
}

/** A tiny GPT-2 (2 layers, 4 heads, 64 dims, 1024 positions, seed 1) with fp32 and q8 files. */
export function tinyModelDir(): Promise<string> {
  return cachedModelDir('tiny-random', TINY_MODEL_SHAPE);
}

/** The tiny GPT-2 with only 128 positions, for context-limit tests. */
export function shortContextModelDir(): Promise<string> {
  return cachedModelDir('tiny-random-128', { ...TINY_MODEL_SHAPE, positions: 128 });
}

/** The GPT-2 small shape (124M parameters, ~500 MB fp32) with random weights, for benchmarks. */
export function gpt2SmallDir(q8 = true): Promise<string> {
  return cachedModelDir('gpt2-small-random', { layers: 12, heads: 12, embd: 768, positions: 1024, seed: 1, q8 });
}
