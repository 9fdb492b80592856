// Where Parley keeps its files: in the platform's directories for it (env-paths, the same
// convention conf uses; ~/.config/parley, ~/.local/share/parley and ~/.cache/parley on
// Linux), unless a PARLEY_*_DIR variable names another place. Never the current directory.
import envPaths from 'env-paths';
import path from 'node:path';

type Env = Readonly<Record<string, string | undefined>>;

export const CONFIG_DIR_ENV = 'PARLEY_CONFIG_DIR';
export const CACHE_DIR_ENV = 'PARLEY_CACHE_DIR';

/** The platform's directory of each kind for Parley, without env-paths' "-nodejs" suffix. */
export function platformDir(kind: 'config' | 'data' | 'cache'): string {
  return envPaths('parley', { suffix: '' })[kind];
}

/** The settings file's directory: PARLEY_CONFIG_DIR, else the platform config directory. */
export function configDir(env: Env = process.env): string {
  return env[CONFIG_DIR_ENV] || platformDir('config');
}

/** The settings file conf keeps in `dir`. */
export function settingsFilePath(dir: string): string {
  return path.join(dir, 'config.json');
}

/** Hub downloads and the demo model: PARLEY_CACHE_DIR, else the platform cache directory. */
export function modelCacheDir(env: Env = process.env): string {
  const fromEnv = env[CACHE_DIR_ENV];
  return fromEnv ? path.resolve(fromEnv) : path.join(platformDir('cache'), 'models');
}
