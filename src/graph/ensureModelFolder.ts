// A generated model folder on disk, made once and reused: by the demo model and by the test
// and benchmark fixtures. A folder is reused only when its generator stamp, shape and files
// all match, and it is generated beside its place and renamed in, so an interrupted run
// never leaves a half-written folder that looks complete.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { type GeneratorStamp, MODEL_GENERATOR_VERSION, type ModelFolderOptions, makeModelFolder } from './makeModelFolder.js';

export type ModelShape = Omit<ModelFolderOptions, 'out'>;

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
  if (shape.q4) needed.push('onnx/model_q4.onnx');
  return (
    config.parley_generator?.version === MODEL_GENERATOR_VERSION &&
    config.parley_generator.seed === shape.seed &&
    config.parley_generator.newKeyValues === (shape.newKeyValues ?? true) &&
    JSON.stringify(config.parley_generator.peaked ?? null) === JSON.stringify(shape.peaked ?? null) &&
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

/** `folder`, holding a model of `shape`: generated only if missing or stale. */
export async function ensureModelFolder(folder: string, shape: ModelShape): Promise<string> {
  if (!(await isUpToDate(folder, shape))) await generate(folder, shape);
  return folder;
}
