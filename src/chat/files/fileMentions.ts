// Where a message names files: `@path` (or `@"path with spaces"`) at the start or after a
// space, so an e-mail address is not one. Pure: which files exist is decided elsewhere.

export interface Mention {
  /** Where the mention starts (its @) and ends, in the message. */
  start: number;
  end: number;
  /** The path as typed, quotes removed. */
  path: string;
}

const MENTION = /(^|\s)@(?:"([^"\n]+)"|([^\s"]+))/g;
/** Punctuation that ends a sentence after a mention rather than belonging to the path. */
const TRAILING = /[.,;:!?)\]}'"]+$/;

export function findMentions(text: string): Mention[] {
  const mentions: Mention[] = [];
  for (const match of text.matchAll(MENTION)) {
    const lead = match[1] ?? '';
    const start = (match.index ?? 0) + lead.length;
    if (match[2] !== undefined) {
      mentions.push({ start, end: start + 1 + match[2].length + 2, path: match[2] });
      continue;
    }
    const raw = match[3] ?? '';
    const path = raw.replace(TRAILING, '');
    if (path === '') continue;
    mentions.push({ start, end: start + 1 + path.length, path });
  }
  return mentions;
}

/** The message with each mention replaced by the file's name as the block above it heads it. */
export function withMentionsNamed(text: string, mentions: readonly Mention[], names: readonly string[]): string {
  let out = '';
  let at = 0;
  mentions.forEach((m, i) => {
    out += text.slice(at, m.start) + (names[i] ?? m.path);
    at = m.end;
  });
  return out + text.slice(at);
}

/** `/file PATH [question]`: the path (quoted when it has spaces) and the rest. */
export function parseFileArgs(raw: string): { path: string; question: string } | null {
  const trimmed = raw.trim();
  if (trimmed === '') return null;
  const quoted = /^"([^"]+)"\s*([\s\S]*)$/.exec(trimmed);
  if (quoted) return { path: quoted[1]!, question: quoted[2]!.trim() };
  const [path = ''] = trimmed.split(/\s+/);
  return { path, question: trimmed.slice(path.length).trim() };
}
