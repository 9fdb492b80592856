// Input history on disk: one JSON string per line, so entries with newlines survive and a
// line can be appended without rewriting the file. Failures never reach the user as
// errors: history is a convenience, and the chat must go on without it. It holds every
// message typed, so it is as private as the sessions: 0600 in a 0700 folder.
//
// The file may be the user's own: a link to a file kept elsewhere, or hand-edited. So no line
// Parley cannot read is ever dropped (a trim moves such a file aside, with a notice), a link
// is written through to its target (never replaced by a regular file), and anything but a
// regular file (a FIFO, a device) is neither read nor written, since opening it could block.
import { appendFile, chmod, lstat, mkdir, readFile, realpath, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import { platformDir } from '../paths.js';
import { writeFileAtomic } from '../session/atomicWrite.js';
import { HISTORY_LIMIT } from './history.js';

/** The entries of a history file's text, and how many of its lines are not entries. */
export function readHistoryLines(content: string): { entries: string[]; unreadable: number } {
  const entries: string[] = [];
  let unreadable = 0;
  for (const line of content.split('\n')) {
    if (!line) continue;
    try {
      const value: unknown = JSON.parse(line);
      if (typeof value === 'string') entries.push(value);
      else unreadable++;
    } catch {
      // Not a line Parley wrote (or a torn last line from a crash mid-append).
      unreadable++;
    }
  }
  return { entries, unreadable };
}

export function parseHistory(content: string): string[] {
  return readHistoryLines(content).entries.slice(-HISTORY_LIMIT);
}

export type HistoryNotice = (line: string) => void;

/**
 * The saved entries, newest last. `notify` hears what was done to the file beyond reading it
 * (moved aside) or why it was not used, one line each.
 */
export async function loadHistory(file: string, notify: HistoryNotice = () => {}): Promise<string[]> {
  try {
    const found = await regularTarget(file, notify);
    if (found.kind !== 'file') return [];
    const target = found.path;
    const content = await readFile(target, 'utf8');
    const { entries: all, unreadable } = readHistoryLines(content);
    const entries = all.slice(-HISTORY_LIMIT);
    // Keep the file from growing without bound: rewrite it when well past the limit.
    if (content.split('\n').length > HISTORY_LIMIT * 2) {
      await trim(file, target, entries, unreadable, notify);
    } else if (((await stat(target)).mode & 0o077) !== 0) {
      // Written by an older Parley, readable by others.
      await chmod(target, PRIVATE_FILE);
    }
    return entries;
  } catch {
    return [];
  }
}

export async function appendHistory(file: string, entry: string): Promise<void> {
  try {
    await mkdir(path.dirname(file), { recursive: true, mode: PRIVATE_DIR });
    if ((await regularTarget(file, () => {})).kind === 'special') return;
    await appendFile(file, JSON.stringify(entry) + '\n', { mode: PRIVATE_FILE });
  } catch {
    // See the note at the top.
  }
}

type Target = { kind: 'none' } | { kind: 'file'; path: string } | { kind: 'special' };

/** The real file behind `file` (itself, or a link's target), after a notice when it is not a regular file. */
async function regularTarget(file: string, notify: HistoryNotice): Promise<Target> {
  let target: string;
  try {
    target = await realpath(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' && !(await exists(file))) return { kind: 'none' };
    throw error;
  }
  if (!(await stat(target)).isFile()) {
    notify(`input history not used: ${file} is not a regular file`);
    return { kind: 'special' };
  }
  return { kind: 'file', path: target };
}

async function exists(file: string): Promise<boolean> {
  try {
    await lstat(file);
    return true;
  } catch {
    return false;
  }
}

async function trim(file: string, target: string, entries: string[], unreadable: number, notify: HistoryNotice): Promise<void> {
  const text = entries.map((e) => JSON.stringify(e) + '\n').join('');
  if (unreadable === 0) {
    await writeFileAtomic(target, text, { mode: PRIVATE_FILE });
    return;
  }
  const lines = `${unreadable} line${unreadable === 1 ? '' : 's'} that ${unreadable === 1 ? 'is' : 'are'} not input history`;
  if ((await lstat(file)).isSymbolicLink()) {
    notify(`input history: ${file} links to ${target}, which has ${lines}: left as it is (not trimmed)`);
    return;
  }
  const aside = `${target}.${new Date().toISOString().replace(/[:.]/g, '-')}.unreadable`;
  await rename(target, aside);
  await writeFileAtomic(target, text, { mode: PRIVATE_FILE });
  notify(`input history: ${file} had ${lines}: moved to ${aside}; its ${entries.length} newest entries are kept`);
}

const PRIVATE_FILE = 0o600;
const PRIVATE_DIR = 0o700;

export const DATA_DIR_ENV = 'PARLEY_DATA_DIR';

/** history.jsonl in PARLEY_DATA_DIR, else in the platform data directory (next to sessions). */
export function historyPath(env: Readonly<Record<string, string | undefined>>): string {
  const dir = env[DATA_DIR_ENV] ? path.resolve(env[DATA_DIR_ENV]) : platformDir('data');
  return path.join(dir, 'history.jsonl');
}
