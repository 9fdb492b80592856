// Input history on disk: one JSON string per line, so entries with newlines survive and a
// line can be appended without rewriting the file. Failures never reach the user as
// errors: history is a convenience, and the chat must go on without it. It holds every
// message typed, so it is as private as the sessions: 0600 in a 0700 folder.
import { appendFile, chmod, mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { platformDir } from '../paths.js';
import { writeFileAtomic } from '../session/atomicWrite.js';
import { HISTORY_LIMIT } from './history.js';

export function parseHistory(content: string): string[] {
  const entries: string[] = [];
  for (const line of content.split('\n')) {
    if (!line) continue;
    try {
      const value: unknown = JSON.parse(line);
      if (typeof value === 'string') entries.push(value);
    } catch {
      // A torn last line from a crash mid-append: skip it.
    }
  }
  return entries.slice(-HISTORY_LIMIT);
}

export async function loadHistory(file: string): Promise<string[]> {
  try {
    const content = await readFile(file, 'utf8');
    const entries = parseHistory(content);
    // Keep the file from growing without bound: rewrite it when well past the limit.
    if (content.split('\n').length > HISTORY_LIMIT * 2) {
      await writeFileAtomic(file, entries.map((e) => JSON.stringify(e) + '\n').join(''), { mode: PRIVATE_FILE });
    } else if (((await stat(file)).mode & 0o077) !== 0) {
      // Written by an older Parley, readable by others.
      await chmod(file, PRIVATE_FILE);
    }
    return entries;
  } catch {
    return [];
  }
}

export async function appendHistory(file: string, entry: string): Promise<void> {
  try {
    await mkdir(path.dirname(file), { recursive: true, mode: PRIVATE_DIR });
    await appendFile(file, JSON.stringify(entry) + '\n', { mode: PRIVATE_FILE });
  } catch {
    // See the note at the top.
  }
}

const PRIVATE_FILE = 0o600;
const PRIVATE_DIR = 0o700;

export const DATA_DIR_ENV = 'PARLEY_DATA_DIR';

/** history.jsonl in PARLEY_DATA_DIR, else in the platform data directory (next to sessions). */
export function historyPath(env: Readonly<Record<string, string | undefined>>): string {
  const dir = env[DATA_DIR_ENV] ? path.resolve(env[DATA_DIR_ENV]) : platformDir('data');
  return path.join(dir, 'history.jsonl');
}
