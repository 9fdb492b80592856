// Whether a file is still the one this process read or wrote, without reading it again: an
// atomic write (a new file renamed into place) makes a new inode, and an edit in place changes
// the size or the modification time.
import type { Stats } from 'node:fs';
import { stat } from 'node:fs/promises';

/** What tells one version of a file from another without reading it: an atomic write makes a new inode. */
export interface FileIdentity {
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
}

export function identityOf(info: Stats): FileIdentity {
  return { dev: info.dev, ino: info.ino, size: info.size, mtimeMs: info.mtimeMs };
}

export async function sameIdentity(file: string, known: FileIdentity): Promise<boolean> {
  const info = await stat(file).catch(() => null);
  if (info === null || !info.isFile()) return false;
  const now = identityOf(info);
  return now.dev === known.dev && now.ino === known.ino && now.size === known.size && now.mtimeMs === known.mtimeMs;
}
