// ↑/↓ through the inputs sent before, like a shell. Browsing starts from the newest entry;
// what was being typed is kept as a draft and comes back after the newest entry.

export const HISTORY_LIMIT = 1000;

export interface HistoryCursor {
  /** Oldest first. */
  entries: readonly string[];
  /** The entry shown, or null when not browsing. */
  index: number | null;
  /** The text that was in the box when browsing began. */
  draft: string;
}

export function startHistory(entries: readonly string[]): HistoryCursor {
  return { entries, index: null, draft: '' };
}

/** The older entry and the new cursor, or null at the oldest entry. */
export function historyOlder(cursor: HistoryCursor, currentText: string): { cursor: HistoryCursor; text: string } | null {
  const { entries, index } = cursor;
  const next = index === null ? entries.length - 1 : index - 1;
  const text = entries[next];
  if (next < 0 || text === undefined) return null;
  const draft = index === null ? currentText : cursor.draft;
  return { cursor: { entries, index: next, draft }, text };
}

/** The newer entry (the draft after the newest), or null when not browsing. */
export function historyNewer(cursor: HistoryCursor): { cursor: HistoryCursor; text: string } | null {
  const { entries, index, draft } = cursor;
  if (index === null) return null;
  const next = index + 1;
  if (next >= entries.length) return { cursor: { entries, index: null, draft: '' }, text: draft };
  return { cursor: { entries, index: next, draft }, text: entries[next] ?? '' };
}

/** Adds a sent input; blank inputs and repeats of the newest entry are not recorded. */
export function withEntry(entries: readonly string[], text: string): string[] {
  if (!text.trim() || entries[entries.length - 1] === text) return [...entries];
  return [...entries, text].slice(-HISTORY_LIMIT);
}
