// Parley keeps sessions, settings, history and downloaded models in the person's own folders
// unless a PARLEY_*_DIR variable names another place. Every test that runs Parley, in this
// process or in another, points all of them (and HOME) into one temporary folder of its own.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** The variables that put every folder Parley reads or writes below one root. */
export type ParleyDirsEnv = {
  HOME: string;
  PARLEY_CONFIG_DIR: string;
  PARLEY_SESSIONS_DIR: string;
  PARLEY_DATA_DIR: string;
  PARLEY_CACHE_DIR: string;
};

export function parleyDirs(root: string): ParleyDirsEnv {
  return {
    HOME: root,
    PARLEY_CONFIG_DIR: path.join(root, 'config'),
    PARLEY_SESSIONS_DIR: path.join(root, 'sessions'),
    PARLEY_DATA_DIR: path.join(root, 'data'),
    PARLEY_CACHE_DIR: path.join(root, 'cache'),
  };
}

export interface TempParleyEnv {
  root: string;
  env: ParleyDirsEnv;
  /** Removes the folder; retries while a Parley that was just hung up on still writes its session. */
  remove(): Promise<void>;
}

/** A fresh temporary folder (named after `name`) and the environment that puts Parley's folders in it. */
export async function tempParleyEnv(name: string): Promise<TempParleyEnv> {
  const root = await mkdtemp(path.join(tmpdir(), `parley-${name}-`));
  return {
    root,
    env: parleyDirs(root),
    remove: () => rm(root, { recursive: true, force: true, maxRetries: 10, retryDelay: 100 }),
  };
}
