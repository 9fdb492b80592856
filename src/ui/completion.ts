// Tab completion of slash-command names and their arguments, like a shell: a single match
// is completed in full, several are completed to their common prefix and listed.
import { findCommand, type NamedCommand } from '../chat/commands/parseSlashCommand.js';
import type { ArgKind, CompletionSources } from '../chat/view/viewState.js';
import { completePath, type ListDir } from './pathCompletion.js';

export interface CompletableCommand extends NamedCommand {
  /** What the command's argument names, if it can be completed; 'path': files. */
  completes?: ArgKind | 'path';
}

export interface Completion {
  text: string;
  /** The matches, when there is more than one. */
  candidates: string[];
}

function commonPrefix(words: readonly string[]): string {
  const [first = '', ...rest] = words;
  let length = first.length;
  for (const word of rest) {
    while (length > 0 && !word.startsWith(first.slice(0, length))) length--;
  }
  return first.slice(0, length);
}

function completeWord(prefix: string, pool: readonly string[], before: string): Completion | null {
  const matches = [...new Set(pool.filter((w) => w.startsWith(prefix)))].sort();
  if (matches.length === 0) return null;
  if (matches.length === 1) return { text: `${before}${matches[0]} `, candidates: [] };
  return { text: before + commonPrefix(matches), candidates: matches };
}

/** The completed input, or null when Tab has nothing to offer. */
export function completeInput(
  text: string,
  table: readonly CompletableCommand[],
  sources: CompletionSources,
  listDir?: ListDir,
): Completion | null {
  // A file named with @, anywhere in a message (also on its later lines).
  const mention = /(^|\s)@(\S*)$/.exec(text);
  if (mention && listDir) {
    const typed = mention[2] ?? '';
    const done = completePath(typed, listDir);
    return done && { text: text.slice(0, text.length - typed.length) + done.text, candidates: done.candidates };
  }
  if (!text.startsWith('/') || text.includes('\n')) return null;
  const nameOnly = /^\/(\S*)$/.exec(text);
  if (nameOnly) {
    const names = table.flatMap((c) => [c.name, ...c.aliases]);
    return completeWord(nameOnly[1] ?? '', names, '/');
  }
  const withArg = /^\/(\S+)\s+(\S*)$/.exec(text);
  if (!withArg) return null;
  const [, name = '', argPrefix = ''] = withArg;
  const kind = findCommand(table, name)?.completes;
  if (!kind) return null;
  if (kind === 'path') {
    const done = listDir ? completePath(argPrefix, listDir) : null;
    return done && { text: `/${name} ${done.text}`, candidates: done.candidates };
  }
  return completeWord(argPrefix, sources[kind], `/${name} `);
}
