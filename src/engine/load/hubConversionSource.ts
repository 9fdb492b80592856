// A hub model asked for in a dtype its repository does not publish (SmolLM2 has no 8-bit file)
// that Parley builds its own graph of: the file Parley builds that dtype from is fetched instead
// (or, offline, found in the cache), so `--model smollm2 --dtype q8` runs Parley's q8 graph.

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type EnsureHubModelOptions, ensureHubModel } from '../../hub/ensureHubModel.js';
import { HubError } from '../../hub/hubError.js';
import { repoDir } from '../../hub/modelCache.js';
import { converterFor } from '../../graph/graphConverters.js';
import { pickSource } from './conversionSources.js';
import { existsSync } from 'node:fs';

/** ensureHubModel for `dtype`, or, when the repository has no such file and Parley converts the model, for its source. */
export async function ensureHubModelOrSource(options: EnsureHubModelOptions & { noConvert: boolean }): Promise<string> {
  const { noConvert, ...ensure } = options;
  try {
    return await ensureHubModel(ensure);
  } catch (err) {
    const precision = ensure.dtype === 'q8' || ensure.dtype === 'q4' ? ensure.dtype : null;
    const missing = err instanceof HubError && (err.code === 'not-found' || err.code === 'not-cached');
    if (!missing || precision === null || noConvert) throw err;
    const dir = repoDir(ensure.cacheDir, ensure.repoId);
    if (!(await isConvertible(dir))) throw err;
    const local = pickSource(precision, (file) => existsSync(path.join(dir, file)));
    // The file at hand (with its config and tokenizer files), else the best source: the fp32 file.
    const source = local?.dtype ?? (ensure.offline ? null : 'fp32');
    if (source === null) throw err;
    try {
      return await ensureHubModel({ ...ensure, dtype: source });
    } catch {
      throw err;
    }
  }
}

async function isConvertible(dir: string): Promise<boolean> {
  try {
    return converterFor(JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8')) as Record<string, unknown>) !== null;
  } catch {
    return false;
  }
}
