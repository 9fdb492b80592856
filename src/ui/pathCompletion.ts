// Tab completion of file paths (after `@` in a message, after /file): a shell's rules, over a
// listing function so the logic is tested without a disk. Folders complete with a slash.
import { readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';

export interface DirEntry {
  name: string;
  folder: boolean;
}

/** Lists a folder's entries; [] for anything unreadable. */
export type ListDir = (dir: string) => readonly DirEntry[];

/** The most entries a folder listing gives completion: a huge folder must not stall a key press. */
const MAX_ENTRIES = 2000;

export const listDirSync: ListDir = (dir) => {
  try {
    const resolved = dir === '~' || dir.startsWith('~/') ? path.join(homedir(), dir.slice(1)) : dir;
    return readdirSync(resolved, { withFileTypes: true })
      .slice(0, MAX_ENTRIES)
      .map((e) => ({ name: e.name, folder: e.isDirectory() }));
  } catch {
    return [];
  }
};

function commonPrefix(words: readonly string[]): string {
  const [first = '', ...rest] = words;
  let length = first.length;
  for (const word of rest) while (length > 0 && !word.startsWith(first.slice(0, length))) length--;
  return first.slice(0, length);
}

/** `typed` completed: the path's text to put in its place, and the matches when several. */
export function completePath(typed: string, list: ListDir): { text: string; candidates: string[] } | null {
  const slash = typed.lastIndexOf('/');
  const dirPart = slash === -1 ? '' : typed.slice(0, slash + 1);
  const base = typed.slice(slash + 1);
  const entries = list(dirPart === '' ? '.' : dirPart).filter(
    (e) => e.name.startsWith(base) && (base.startsWith('.') || !e.name.startsWith('.')),
  );
  if (entries.length === 0) return null;
  if (entries.length === 1) {
    const only = entries[0]!;
    return { text: `${dirPart}${only.name}${only.folder ? '/' : ' '}`, candidates: [] };
  }
  const names = entries.map((e) => (e.folder ? `${e.name}/` : e.name)).sort();
  return { text: dirPart + commonPrefix(entries.map((e) => e.name)), candidates: names };
}
