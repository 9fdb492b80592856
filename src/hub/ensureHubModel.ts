// A hub model in the model cache, downloaded if it is not there yet: the files
// transformers.js will read for the dtype, and nothing else. Once they are all present the
// folder is used as it is, with no request at all (offline or not).
import { existsSync } from 'node:fs';
import { readFile, readdir, rmdir } from 'node:fs/promises';
import path from 'node:path';
import type { Dtype } from './dtypes.js';
import { downloadFile, type FileProgress } from './downloadFile.js';
import { HubError, writeError } from './hubError.js';
import { hubFileUrl } from './hubEndpoint.js';
import { listRepoDtypes } from './repoDtypes.js';
import { CONFIG_FILES, MODEL_FILE_STEMS, OPTIONAL_FILES, modelFilesFor } from './modelFiles.js';
import { repoDir, touchLastUsed, withRepoLock } from './modelCache.js';

export interface EnsureHubModelOptions {
  cacheDir: string;
  endpoint: string;
  repoId: string;
  dtype: Dtype;
  offline: boolean;
  /** How the user refers to the model (an alias, say), for the hint in errors. */
  ref?: string;
  revision?: string;
  onProgress?: (p: FileProgress) => void;
  /** Told when another process holds the download lock and this one waits for it. */
  onWait?: () => void;
  signal?: AbortSignal;
  idleTimeoutMs?: number;
}

async function readConfig(dir: string): Promise<Record<string, unknown> | null> {
  try {
    const parsed = JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8')) as unknown;
    return parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/**
 * The required files not yet in `dir` (null when config.json itself is missing or unreadable).
 * The model's files are complete under either naming; when neither is, the current one is missing.
 */
async function missingFiles(dir: string, dtype: Dtype): Promise<string[] | null> {
  const config = await readConfig(dir);
  if (!config) return null;
  const absent = (f: string): boolean => !existsSync(path.join(dir, f));
  const namings = MODEL_FILE_STEMS.map((stem) => modelFilesFor(config, dtype, stem));
  const model = namings.find((files) => files.every((f) => !absent(f))) ?? namings.find((files) => !absent(files[0]!)) ?? namings[0]!;
  return [...CONFIG_FILES, ...model].filter(absent);
}

/** The folder holding `repoId`'s files for `dtype`, downloading what is missing. Throws HubError. */
export async function ensureHubModel(options: EnsureHubModelOptions): Promise<string> {
  const { cacheDir, repoId, dtype } = options;
  const dir = repoDir(cacheDir, repoId);
  const missing = await missingFiles(dir, dtype);
  if (missing !== null && missing.length === 0) {
    await touchLastUsed(dir);
    return dir;
  }
  if (options.offline) {
    const what = missing === null ? `${repoId}` : `${repoId} (${dtype}: ${missing.join(', ')} missing)`;
    throw new HubError(
      'not-cached',
      `${what} is not in the model cache and --offline forbids downloading; download it first with: parley pull ${options.ref ?? repoId}${dtype === 'fp32' ? '' : ` --dtype ${dtype}`}`,
    );
  }
  try {
    await withRepoLock(cacheDir, repoId, () => download(options, dir), {
      ...(options.onWait ? { onWait: options.onWait } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (err) {
    // A download that got nothing leaves no empty folder behind (parley rm would list it, 0 B);
    // one that got part of a file keeps it, to resume.
    await removeEmptyFolders(dir, cacheDir);
    // The lock's own files (an unwritable or full cache) fail as plain errno errors.
    if (!(err instanceof HubError) && typeof (err as NodeJS.ErrnoException).code === 'string') throw writeError(err, repoId, cacheDir);
    throw err;
  }
  await touchLastUsed(dir);
  return dir;
}

async function download(options: EnsureHubModelOptions, dir: string): Promise<void> {
  const { endpoint, repoId, dtype } = options;
  const revision = options.revision ?? 'main';
  const fetchFile = (file: string): Promise<void> =>
    downloadFile({
      url: hubFileUrl(endpoint, repoId, revision, file),
      file,
      dest: path.join(dir, file),
      repoId,
      ...(options.onProgress ? { onProgress: options.onProgress } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      ...(options.idleTimeoutMs ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
    });
  // Another process may have finished while this one waited for the lock.
  const before = await missingFiles(dir, dtype);
  if (before !== null && before.length === 0) return;

  if (!existsSync(path.join(dir, 'config.json'))) {
    try {
      await fetchFile('config.json');
    } catch (err) {
      if (err instanceof HubError && err.code === 'not-found') {
        throw new HubError('not-found', `${repoId} was not found on the hub at ${endpoint} (no config.json)`);
      }
      throw err;
    }
  }
  const config = await readConfig(dir);
  if (!config) throw new HubError('http', `${repoId}'s config.json is not valid JSON`);
  await fetchModelFiles(options, dir, config, fetchFile);
  for (const file of CONFIG_FILES) {
    if (!existsSync(path.join(dir, file))) await fetchFile(file);
  }
  for (const file of OPTIONAL_FILES) {
    if (existsSync(path.join(dir, file))) continue;
    try {
      await fetchFile(file);
    } catch (err) {
      if (!(err instanceof HubError && err.code === 'not-found')) throw err;
    }
  }
}

/**
 * The dtype's model file and its external data: under the current name, else under the pre-v3
 * name (a repository such as Xenova/distilgpt2 has only that). A file already here is kept.
 */
async function fetchModelFiles(
  options: EnsureHubModelOptions,
  dir: string,
  config: Record<string, unknown>,
  fetchFile: (file: string) => Promise<void>,
): Promise<void> {
  const { endpoint, repoId, dtype } = options;
  for (const stem of MODEL_FILE_STEMS) {
    const [main, ...data] = modelFilesFor(config, dtype, stem);
    if (!existsSync(path.join(dir, main!))) {
      try {
        await fetchFile(main!);
      } catch (err) {
        if (err instanceof HubError && err.code === 'not-found') continue;
        throw err;
      }
    }
    for (const file of data) if (!existsSync(path.join(dir, file))) await fetchFile(file);
    return;
  }
  const dtypes = await listRepoDtypes(endpoint, repoId, options.revision ?? 'main').catch(() => null);
  const has =
    dtypes === null
      ? 'the dtypes it has could not be listed'
      : dtypes.length
        ? `it has: ${dtypes.join(', ')}`
        : 'it has no onnx/model*.onnx or onnx/decoder_model_merged*.onnx at all';
  const names = MODEL_FILE_STEMS.map((stem) => modelFilesFor(config, dtype, stem)[0]).join(' or ');
  throw new HubError('not-found', `${repoId} has no ${names} (--dtype ${dtype}); ${has}`);
}

/** Removes `dir` and its sub-folders if they hold no file, then its parents up to `top`. */
async function removeEmptyFolders(dir: string, top: string): Promise<void> {
  const prune = async (folder: string): Promise<boolean> => {
    const entries = await readdir(folder, { withFileTypes: true }).catch(() => null);
    if (entries === null) return false;
    let empty = true;
    for (const entry of entries) {
      if (!entry.isDirectory() || !(await prune(path.join(folder, entry.name)))) empty = false;
    }
    if (empty) await rmdir(folder).catch(() => undefined);
    return empty;
  };
  if (!(await prune(dir))) return;
  for (let parent = path.dirname(dir); parent.startsWith(path.resolve(top) + path.sep); parent = path.dirname(parent)) {
    if (
      !(await rmdir(parent).then(
        () => true,
        () => false,
      ))
    )
      break;
  }
}
