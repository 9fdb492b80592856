// Messages typed while a reply streams (or while one waits for the model): they wait here,
// shown under the reply, and go out one at a time as each reply ends.
import type { ViewStore } from './view/viewStore.js';

export class MessageQueue {
  private items: string[] = [];

  constructor(private readonly view: ViewStore) {}

  get size(): number {
    return this.items.length;
  }

  push(text: string): void {
    this.items.push(text);
    this.publish();
  }

  /** Takes back the newest queued message (Esc, Ctrl+C); null when none waits. */
  removeLast(): string | null {
    const text = this.items.pop() ?? null;
    if (text !== null) this.publish();
    return text;
  }

  /** The oldest queued message, to send now; null when none waits. */
  shift(): string | null {
    const text = this.items.shift() ?? null;
    if (text !== null) this.publish();
    return text;
  }

  /** Empties the queue and hands back what was in it, oldest first. */
  takeAll(): string[] {
    const all = this.items;
    this.items = [];
    if (all.length > 0) this.publish();
    return all;
  }

  private publish(): void {
    this.view.update({ queued: [...this.items] });
  }
}
