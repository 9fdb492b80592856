// Where hub models live in the model cache, and the lock that keeps two Parley processes
// from downloading into the same folder at once.
//
//   <cache>/<owner>/<name>/                      a hub repository's files, as the hub names them
//   <cache>/<owner>/<name>/.parley-last-used     touched whenever Parley loads the model
//   <cache>/<owner>/<name>/parley-converted/<v>/ graphs Parley derived from that repository (a model folder each)
//   <cache>/.locks/<owner>--<name>.lock          held while a process downloads into the folder
//   <cache>/demo-gpt2/                           the generated demo model
//
// The repository layout is transformers.js's own (`<cacheDir>/<model id>/<file>`), so a
// cache it filled earlier is still used.
import { mkdir, utimes, writeFile } from 'node:fs/promises';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import { HubError } from './hubError.js';

export const LAST_USED_FILE = '.parley-last-used';
export const CONVERTED_DIR = 'parley-converted';
export const LOCKS_DIR = '.locks';

const REPO_ID = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/;

export function isRepoId(id: string): boolean {
  return REPO_ID.test(id) && !id.split('/').some((part) => part === '.' || part === '..');
}

/** The folder holding `owner/name`'s files. */
export function repoDir(cacheDir: string, repoId: string): string {
  if (!isRepoId(repoId)) throw new Error(`not a hub model id: "${repoId}"`);
  return path.join(cacheDir, ...repoId.split('/'));
}

/**
 * A folder for a graph Parley converts from a hub repository (`variant` names what it is,
 * e.g. `rows-fp32`); `parley models` lists these and `parley rm` removes them with the model.
 */
export function convertedGraphDir(cacheDir: string, repoId: string, variant: string): string {
  if (!/^[\w.-]+$/.test(variant) || variant.startsWith('.')) throw new Error(`not a graph variant name: "${variant}"`);
  return path.join(repoDir(cacheDir, repoId), CONVERTED_DIR, variant);
}

export function lockPath(cacheDir: string, repoId: string): string {
  return path.join(cacheDir, LOCKS_DIR, `${repoId.replace('/', '--')}.lock`);
}

/** Records that the model was used now (for `parley models`); failing to is harmless. */
export async function touchLastUsed(dir: string): Promise<void> {
  const file = path.join(dir, LAST_USED_FILE);
  const now = new Date();
  try {
    await utimes(file, now, now);
  } catch {
    await writeFile(file, '').catch(() => undefined);
  }
}

/**
 * Holds the repository's lock while `work` runs. Another process holding it is waited for
 * (`onWait` is told once); a lock whose holder died (kill -9) goes stale after a few
 * seconds and is taken over.
 */
export async function withRepoLock<T>(
  cacheDir: string,
  repoId: string,
  work: () => Promise<T>,
  options: { onWait?: () => void; signal?: AbortSignal } = {},
): Promise<T> {
  const lockfilePath = lockPath(cacheDir, repoId);
  await mkdir(path.dirname(lockfilePath), { recursive: true });
  let compromised: Error | null = null;
  let release: (() => Promise<void>) | null = null;
  let told = false;
  while (release === null) {
    try {
      release = await lockfile.lock(repoDir(cacheDir, repoId), {
        realpath: false,
        lockfilePath,
        stale: 5000,
        update: 1000,
        onCompromised: (err) => {
          compromised = err;
        },
      });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
      if (!told) options.onWait?.();
      told = true;
      if (options.signal?.aborted) throw new HubError('cancelled', `stopped while waiting for another download of ${repoId}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    const result = await work();
    if (compromised) throw compromised;
    return result;
  } finally {
    await release().catch(() => undefined);
  }
}
