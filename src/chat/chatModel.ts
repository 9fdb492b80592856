// What the chat screen (App) needs from whatever runs the chat: a view store to render, and
// the user's actions to hand over.
import type { ViewState } from '../ui/viewState.js';

export interface ChatModel {
  subscribe(listener: () => void): () => void;
  getState(): ViewState;
  /** A line sent with Enter: a message or a slash command. */
  submit(text: string): void;
  /** Stops the reply being generated, or a message waiting for the model. */
  stop(): void;
  answer(yes: boolean): void;
  draftChanged(text: string): void;
  clearScreen(): void;
  /** The columns a reply's text gets on screen, so its finished lines can be printed once. */
  setReplyWidth(columns: number): void;
  /** Stops a reply and saves; resolves when the app may close. */
  exit(): Promise<void>;
}
