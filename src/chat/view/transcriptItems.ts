// What the transcript shows: conversation turns plus the UI's own notices (command output,
// errors). Items are append-only, as they are printed once through Ink's <Static>.
import type { Turn } from '../../prompt/conversationTypes.js';

export type NoticeTone = 'info' | 'error' | 'warning';

export type TranscriptItem =
  | { id: string; kind: 'turn'; turn: Turn }
  | { id: string; kind: 'notice'; text: string; tone: NoticeTone }
  /** Finished screen lines of the reply being streamed (see replyLines.ts). */
  | { id: string; kind: 'replyLines'; lines: readonly string[] }
  /** The end of a streamed reply: its last line, and whether it was stopped. */
  | { id: string; kind: 'replyEnd'; text: string; interrupted: boolean }
  /** Terms and their descriptions (/help), laid out for the screen's width when printed. */
  | { id: string; kind: 'definitions'; sections: readonly DefinitionSection[] }
  /**
   * Lines of a reply shown as Markdown, final; `end` on the reply's last ones. Parley drew
   * them from cleaned text: their only escape sequences are its own styles.
   */
  | { id: string; kind: 'styledLines'; lines: readonly string[]; end: null | { interrupted: boolean } };

/** A titled group of rows: a term (a command's usage, a key) and what it does. */
export interface DefinitionSection {
  title: string | null;
  rows: readonly (readonly [term: string, description: string])[];
}

let noticeCounter = 0;

export function noticeItem(text: string, tone: NoticeTone = 'info'): TranscriptItem {
  noticeCounter++;
  return { id: `notice-${noticeCounter}`, kind: 'notice', text, tone };
}

export function turnItem(turn: Turn): TranscriptItem {
  // A turn id is unique only within one conversation; after /retry or /load the same id
  // may be shown again, so the item key gets a counter too.
  noticeCounter++;
  return { id: `turn-${turn.id}-${noticeCounter}`, kind: 'turn', turn };
}

export function replyLinesItem(lines: readonly string[]): TranscriptItem {
  noticeCounter++;
  return { id: `reply-lines-${noticeCounter}`, kind: 'replyLines', lines };
}

export function replyEndItem(text: string, interrupted: boolean): TranscriptItem {
  noticeCounter++;
  return { id: `reply-end-${noticeCounter}`, kind: 'replyEnd', text, interrupted };
}

export function definitionsItem(sections: readonly DefinitionSection[]): TranscriptItem {
  noticeCounter++;
  return { id: `definitions-${noticeCounter}`, kind: 'definitions', sections };
}

export function styledLinesItem(lines: readonly string[], end: null | { interrupted: boolean } = null): TranscriptItem {
  noticeCounter++;
  return { id: `styled-lines-${noticeCounter}`, kind: 'styledLines', lines, end };
}

/** The conversation's turns, as the transcript shows them. */
export function turnItems(turns: readonly Turn[]): TranscriptItem[] {
  return turns.map(turnItem);
}
