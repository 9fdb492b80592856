// Reading a file the user puts into a message: only a text file, not too big, inside the
// current folder unless the user says yes. Every refusal is one line naming the file.
import { open, realpath, stat } from 'node:fs/promises';
import path from 'node:path';

/** The most bytes a file may have to go into a message: far beyond any context window's text. */
export const MAX_FILE_BYTES = 1024 * 1024;

export type FileRead =
  | { kind: 'text'; name: string; absolute: string; text: string }
  | { kind: 'outside'; absolute: string }
  | { kind: 'refused'; error: string };

/** What is wrong with a file's bytes as text, or null: NUL bytes or invalid UTF-8 mean binary. */
export function textProblem(bytes: Uint8Array): string | null {
  if (bytes.includes(0)) return 'a binary file (it has NUL bytes)';
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return 'not UTF-8 text';
  }
  return null;
}

/** Whether `target` is `root` or lies inside it. */
export function isInside(root: string, target: string): boolean {
  const relative = path.relative(root, target);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

/**
 * Reads `typed` (relative to `cwd`, or absolute; `~/` is the home folder). A path outside
 * `cwd` (symlinks followed) is only read with `allowOutside`; without it the caller asks.
 */
export async function readTextFile(typed: string, cwd: string, home: string, allowOutside: boolean): Promise<FileRead> {
  const expanded = typed === '~' || typed.startsWith('~/') ? path.join(home, typed.slice(1)) : typed;
  const absolute = path.resolve(cwd, expanded);
  let real: string;
  try {
    real = await realpath(absolute);
  } catch {
    return { kind: 'refused', error: `${typed}: no such file` };
  }
  const root = await realpath(cwd).catch(() => cwd);
  if (!allowOutside && !isInside(root, real)) return { kind: 'outside', absolute };
  const info = await stat(real);
  if (info.isDirectory()) return { kind: 'refused', error: `${typed}: a folder, not a file` };
  if (!info.isFile()) return { kind: 'refused', error: `${typed}: not a regular file` };
  if (info.size > MAX_FILE_BYTES) {
    return { kind: 'refused', error: `${typed}: ${info.size} bytes, over the ${MAX_FILE_BYTES}-byte limit for a file in a message` };
  }
  // Read through one handle, at most the limit and a byte: the file may have grown since stat.
  const handle = await open(real, 'r');
  let bytes: Buffer;
  try {
    const buffer = Buffer.alloc(MAX_FILE_BYTES + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    bytes = buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
  if (bytes.length > MAX_FILE_BYTES)
    return { kind: 'refused', error: `${typed}: over the ${MAX_FILE_BYTES}-byte limit for a file in a message` };
  const problem = textProblem(bytes);
  if (problem !== null) return { kind: 'refused', error: `${typed}: ${problem}; only text files go into a message` };
  const name = isInside(root, real) ? path.relative(root, real) || path.basename(real) : absolute;
  // A byte-order mark is not part of the text.
  const text = bytes.toString('utf8').replace(/^\uFEFF/, '');
  return { kind: 'text', name, absolute, text };
}
