// Generated GPT-2 model folders shared by tests and benchmarks, cached in
// <repo>/.cache/models (git-ignored) and regenerated only when missing or stale.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureModelFolder, type ModelShape } from '../../src/graph/ensureModelFolder.js';

/** dist/test/helpers/fixtures.js → the repository root. */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const MODELS_CACHE_DIR = path.join(REPO_ROOT, '.cache', 'models');

export type { ModelShape };

/** The shape of tinyModelDir()'s model. */
export const TINY_MODEL_SHAPE: ModelShape = { layers: 2, heads: 4, embd: 64, positions: 1024, seed: 1, q8: true };

const pending = new Map<string, Promise<string>>();

/** The folder `.cache/models/<name>` holding a model of `shape`, generated if needed. */
export function cachedModelDir(name: string, shape: ModelShape): Promise<string> {
  const folder = path.join(MODELS_CACHE_DIR, name);
  const key = `${folder} ${JSON.stringify(shape)}`;
  let result = pending.get(key);
  if (result === undefined) {
    result = ensureModelFolder(folder, shape);
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

/** The tiny GPT-2 with a q4 file as well (the plain one has fp32 and q8 only, as tests of a missing dtype expect). */
/**
 * A random-weight GPT-2 of a few million parameters that samples over every byte token (it
 * writes control characters, noise): the shape the demo model had before a trained one shipped.
 */
export function randomWeightsModelDir(): Promise<string> {
  return cachedModelDir('random-gpt2-4x256', { layers: 4, heads: 4, embd: 256, positions: 1024, seed: 1, q8: true, q4: true });
}

export function tinyQ4ModelDir(): Promise<string> {
  return cachedModelDir('tiny-random-q4', { ...TINY_MODEL_SHAPE, q4: true });
}

/** The tiny GPT-2 with only 128 positions, for context-limit tests. */
export function shortContextModelDir(): Promise<string> {
  return cachedModelDir('tiny-random-128', { ...TINY_MODEL_SHAPE, positions: 128 });
}

/** The GPT-2 small shape (124M parameters, ~500 MB fp32) with random weights, for benchmarks. */
export function gpt2SmallDir(q8 = true): Promise<string> {
  return cachedModelDir('gpt2-small-random', { layers: 12, heads: 12, embd: 768, positions: 1024, seed: 1, q8, q4: q8 });
}

/** GPT-2 small without the new_key_values outputs: the graph a hub export has (the decoder's present path). */
export function gpt2SmallPresentOnlyDir(q8 = true): Promise<string> {
  return cachedModelDir('gpt2-small-random-present', {
    layers: 12,
    heads: 12,
    embd: 768,
    positions: 1024,
    seed: 1,
    q8,
    newKeyValues: false,
  });
}

/** The hub-style exports in test/fixtures (see its README): Qwen2 with ChatML, Llama-3.2. */
export const HF_QWEN2_TINY = path.join(REPO_ROOT, 'test', 'fixtures', 'hf-qwen2-tiny');
export const HF_LLAMA_TINY = path.join(REPO_ROOT, 'test', 'fixtures', 'hf-llama-tiny');
export const HF_GPT2_TINY = path.join(REPO_ROOT, 'test', 'fixtures', 'hf-gpt2-tiny');

/** A published chat template from test/fixtures/chat-templates, by file name without `.jinja`. */
export function publishedTemplate(name: string): string {
  return readFileSync(path.join(REPO_ROOT, 'test', 'fixtures', 'chat-templates', `${name}.jinja`), 'utf8');
}
