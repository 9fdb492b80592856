// What a line typed at the prompt means: a message, or which command with which arguments.
import { closestName } from '../../text/closestName.js';

export interface NamedCommand {
  name: string;
  aliases: readonly string[];
}

export type ParsedInput<C extends NamedCommand> =
  | { kind: 'message'; text: string }
  | { kind: 'command'; command: C; args: string }
  | { kind: 'unknown'; name: string; suggestion: string | null };

export function findCommand<C extends NamedCommand>(table: readonly C[], name: string): C | undefined {
  const lower = name.toLowerCase();
  return table.find((c) => c.name === lower || c.aliases.includes(lower));
}

export function parseSlashCommand<C extends NamedCommand>(line: string, table: readonly C[]): ParsedInput<C> {
  // `//text` sends a message that starts with a slash.
  if (line.startsWith('//')) return { kind: 'message', text: line.slice(1) };
  if (!line.startsWith('/')) return { kind: 'message', text: line };
  const match = /^\/(\S*)\s*([\s\S]*)$/.exec(line.trimEnd());
  const name = match?.[1] ?? '';
  const args = match?.[2] ?? '';
  const command = findCommand(table, name);
  if (command) return { kind: 'command', command, args };
  const names = table.flatMap((c) => [c.name, ...c.aliases]);
  const suggestion = closestName(name, names);
  return { kind: 'unknown', name, suggestion };
}

/** Splits arguments at blanks, keeping `--flags` apart from the rest. */
export function splitArgs(args: string): { words: string[]; flags: Set<string> } {
  const words: string[] = [];
  const flags = new Set<string>();
  for (const word of args.split(/\s+/)) {
    if (!word) continue;
    if (word.startsWith('--') && word.length > 2) flags.add(word.slice(2));
    else words.push(word);
  }
  return { words, flags };
}
