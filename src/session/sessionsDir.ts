// Where session files live: the --sessions-dir flag, else PARLEY_SESSIONS_DIR, else the
// sessionsDir setting, else `sessions` in the platform's data directory (the same
// convention conf uses for the config directory: ~/.local/share/parley/sessions on Linux,
// ~/Library/Application Support/parley/sessions on macOS, %LOCALAPPDATA%\parley\Data\sessions
// on Windows). Never the current directory.
import { join, resolve } from 'node:path';
import { platformDir } from '../paths.js';

export type SessionsDirSource = 'flag' | 'env' | 'settings' | 'default';

export const SESSIONS_DIR_ENV = 'PARLEY_SESSIONS_DIR';

export interface SessionsDirInput {
  flag?: string | null;
  /** Default: process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  setting?: string | null;
  /** Injected by tests; by default the platform data directory. */
  defaultDir?: string;
}

export function resolveSessionsDir(input: SessionsDirInput): { dir: string; source: SessionsDirSource } {
  const envValue = (input.env ?? process.env)[SESSIONS_DIR_ENV];
  // Relative paths from a flag or variable mean relative to where the user typed them.
  if (input.flag) return { dir: resolve(input.flag), source: 'flag' };
  if (envValue) return { dir: resolve(envValue), source: 'env' };
  if (input.setting) return { dir: resolve(input.setting), source: 'settings' };
  return { dir: input.defaultDir ?? defaultSessionsDir(), source: 'default' };
}

export function defaultSessionsDir(): string {
  return join(platformDir('data'), 'sessions');
}
