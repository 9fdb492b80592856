// What the transcript shows: conversation turns plus the UI's own notices (command output,
// errors). Items are append-only, as they are printed once through Ink's <Static>.
import type { Turn } from '../session/types.js';

export type NoticeTone = 'info' | 'error' | 'warning';

export type TranscriptItem =
  | { id: string; kind: 'turn'; turn: Turn }
  | { id: string; kind: 'notice'; text: string; tone: NoticeTone };

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
