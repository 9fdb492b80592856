// The state the chat screen renders. Every part of the chat writes to it only through
// `update` (or the helpers built on it), so React sees every change (useSyncExternalStore).
import { noticeItem, type NoticeTone, type TranscriptItem } from './transcriptItems.js';
import type { ViewState } from './viewState.js';

export class ViewStore {
  private view: ViewState;
  private readonly listeners = new Set<() => void>();
  /** A reply streams: its lines go to the transcript, and notices wait below it (held). */
  private replying = false;

  /**
   * `clearTerminal` wipes the terminal before the transcript is printed anew (/clear,
   * /load); it must run before the re-render, or it would wipe the new transcript too.
   */
  constructor(
    initial: ViewState,
    private readonly clearTerminal: () => void = () => undefined,
  ) {
    this.view = initial;
  }

  subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  getState = (): ViewState => this.view;

  update(patch: Partial<ViewState>): void {
    this.view = { ...this.view, ...patch };
    for (const listener of this.listeners) listener();
  }

  /** Adds to the transcript; while a reply streams, after the reply, so nothing lands inside it. */
  append(...items: TranscriptItem[]): void {
    if (items.length === 0) return;
    if (this.replying) this.update({ held: [...this.view.held, ...items] });
    else this.update({ transcript: [...this.view.transcript, ...items] });
  }

  /** A reply starts streaming: notices from now on wait under it until it ends. */
  beginReply(): void {
    this.replying = true;
  }

  /** The reply ended with `items` (its end, its error): they go in, then the notices held meanwhile. */
  endReply(...items: TranscriptItem[]): void {
    this.replying = false;
    this.update({ live: null, transcript: [...this.view.transcript, ...items, ...this.view.held], held: [] });
  }

  notice(text: string, tone: NoticeTone = 'info'): void {
    this.append(noticeItem(text, tone));
  }

  /** Clears the terminal and prints `transcript` in place of the old one. */
  reprint(transcript: TranscriptItem[]): void {
    this.clearTerminal();
    this.update({ transcript, transcriptEpoch: this.view.transcriptEpoch + 1 });
  }
}
