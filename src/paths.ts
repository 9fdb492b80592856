import envPaths from 'env-paths';
import path from 'node:path';

export const CACHE_DIR_ENV = 'PARLEY_CACHE_DIR';

/** Hub downloads and the demo model: PARLEY_CACHE_DIR, else the platform cache directory. */
export function modelCacheDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const fromEnv = env[CACHE_DIR_ENV];
  return fromEnv ? path.resolve(fromEnv) : path.join(envPaths('parley', { suffix: '' }).cache, 'models');
}
