// What the model cache holds (for `parley models` and `/model`), and removing from it
// (`parley rm`). See modelCache.ts for the layout.
import { existsSync } from 'node:fs';
import { readdir, rm, rmdir, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Dtype } from './dtypes.js';
import { CONVERTED_DIR, LAST_USED_FILE, LOCKS_DIR, repoDir, withRepoLock } from './modelCache.js';
import { DTYPE_SUFFIX, MODEL_FILE_STEMS, dtypesIn } from './modelFiles.js';

/** The folder the demo model is generated into, and the name it goes by. */
export const DEMO_FOLDER = 'demo-gpt2';

export interface ConvertedGraph {
  variant: string;
  bytes: number;
}

export interface CachedModel {
  /** `owner/name`, or `demo`, or the folder's name for another folder in the cache. */
  id: string;
  dir: string;
  dtypes: Dtype[];
  /** Everything in the folder, converted graphs and leftovers of interrupted downloads included. */
  bytes: number;
  /** When Parley last loaded it, if it ever did. */
  lastUsed: Date | null;
  converted: ConvertedGraph[];
}

async function folderBytes(dir: string): Promise<number> {
  let total = 0;
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  for (const entry of entries) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) total += await folderBytes(full);
    else if (entry.isFile()) total += (await stat(full).catch(() => ({ size: 0 }))).size;
  }
  return total;
}

async function describe(id: string, dir: string): Promise<CachedModel> {
  const onnx = await readdir(path.join(dir, 'onnx')).catch(() => [] as string[]);
  const lastUsed = await stat(path.join(dir, LAST_USED_FILE)).then(
    (s) => s.mtime,
    () => null,
  );
  const converted: ConvertedGraph[] = [];
  const variants = await readdir(path.join(dir, CONVERTED_DIR), { withFileTypes: true }).catch(() => []);
  for (const v of variants) {
    if (v.isDirectory()) converted.push({ variant: v.name, bytes: await folderBytes(path.join(dir, CONVERTED_DIR, v.name)) });
  }
  return { id, dir, dtypes: dtypesIn(onnx.map((f) => `onnx/${f}`)), bytes: await folderBytes(dir), lastUsed, converted };
}

const isModelFolder = (dir: string): boolean => existsSync(path.join(dir, 'config.json'));

/** Every model folder in the cache, hub repositories as `owner/name`, sorted by id. */
export async function listCachedModels(cacheDir: string): Promise<CachedModel[]> {
  const models: CachedModel[] = [];
  const top = await readdir(cacheDir, { withFileTypes: true }).catch(() => []);
  for (const entry of top) {
    if (!entry.isDirectory() || entry.name.startsWith('.') || entry.name === LOCKS_DIR || entry.name.includes('.tmp-')) continue;
    const dir = path.join(cacheDir, entry.name);
    if (isModelFolder(dir)) {
      models.push(await describe(entry.name === DEMO_FOLDER ? 'demo' : entry.name, dir));
      continue;
    }
    for (const sub of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
      if (sub.isDirectory() && !sub.name.startsWith('.') && isModelFolder(path.join(dir, sub.name))) {
        models.push(await describe(`${entry.name}/${sub.name}`, path.join(dir, sub.name)));
      }
    }
  }
  return models.sort((a, b) => a.id.localeCompare(b.id));
}

/** The cache folder of `id` (`owner/name` or `demo`). */
export function cachedModelDir(cacheDir: string, id: string): string {
  return id === 'demo' ? path.join(cacheDir, DEMO_FOLDER) : repoDir(cacheDir, id);
}

/** The paths `parley rm` would delete for `id` (and `dtype`), with their size. */
export async function removalPlan(cacheDir: string, id: string, dtype?: Dtype): Promise<{ paths: string[]; bytes: number }> {
  const dir = cachedModelDir(cacheDir, id);
  if (!existsSync(dir)) return { paths: [], bytes: 0 };
  if (dtype === undefined) return { paths: [dir], bytes: await folderBytes(dir) };
  const bases = MODEL_FILE_STEMS.map((stem) => `${stem}${DTYPE_SUFFIX[dtype]}.onnx`);
  const onnx = await readdir(path.join(dir, 'onnx')).catch(() => [] as string[]);
  // The model file, its external data chunks, and what interrupted downloads of them left.
  const files = onnx
    .filter((f) => bases.some((base) => f === base || f.startsWith(`${base}_data`) || f.startsWith(`${base}.part`)))
    .map((f) => path.join(dir, 'onnx', f));
  const variants = await readdir(path.join(dir, CONVERTED_DIR)).catch(() => [] as string[]);
  const converted = variants.filter((v) => v.endsWith(`-${dtype}`)).map((v) => path.join(dir, CONVERTED_DIR, v));
  let bytes = 0;
  for (const f of files) bytes += (await stat(f)).size;
  for (const c of converted) bytes += await folderBytes(c);
  return { paths: [...files, ...converted], bytes };
}

/** Deletes what removalPlan names, under the download lock; returns the bytes freed. */
export async function removeCachedModel(cacheDir: string, id: string, dtype?: Dtype): Promise<number> {
  const work = async (): Promise<number> => {
    const plan = await removalPlan(cacheDir, id, dtype);
    for (const p of plan.paths) await rm(p, { recursive: true, force: true });
    // An owner folder left empty goes too.
    if (dtype === undefined && id.includes('/')) await rmdir(path.dirname(cachedModelDir(cacheDir, id))).catch(() => undefined);
    return plan.bytes;
  };
  return id === 'demo' ? work() : withRepoLock(cacheDir, id, work);
}
