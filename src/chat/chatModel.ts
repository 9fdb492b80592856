// What the chat screen (App) needs from whatever runs the chat: a view store to render, and
// the user's actions to hand over.
import type { ViewState } from './view/viewState.js';

export interface ChatModel {
  subscribe(listener: () => void): () => void;
  getState(): ViewState;
  /** A line sent with Enter: a message or a slash command. */
  submit(text: string): void;
  /** Stops the reply being generated, or a message waiting for the model. */
  stop(): void;
  /** Takes back the newest message queued while a reply streams. */
  unqueue(): void;
  answer(yes: boolean): void;
  /** The line that answers a question with several answers; '' (Esc) cancels. */
  choose(text: string): void;
  draftChanged(text: string): void;
  clearScreen(): void;
  /** Shows what went wrong with something the screen did (the editor would not run). */
  report(message: string): void;
  /** Clears the terminal and prints the transcript again, laid out for its size now (a resize). */
  redraw(): void;
  /** The columns a reply's text gets on screen, so its finished lines can be printed once. */
  setReplyWidth(columns: number): void;
  /**
   * Stops a reply and saves; resolves true when the app may close, false when the session
   * could not be saved and the user is asked what to do instead.
   */
  exit(): Promise<boolean>;
}
