// The state the chat screen renders, kept by the chat (view store) and read by the screen.
import type { LoadingState } from './loadingProgress.js';
import type { StatusInfo } from './statusInfo.js';
import type { TranscriptItem } from './transcriptItems.js';

/** What a command's argument names, for Tab completion. */
export type ArgKind = 'model' | 'session' | 'persona' | 'command';

export type CompletionSources = Readonly<Record<ArgKind, readonly string[]>>;

export interface LiveReplyState {
  text: string;
  /** The open part of a reply shown as Markdown, drawn by Parley (its own styles only); `text` is then not shown. */
  lines?: readonly string[];
  /** The message was sent before the model was ready and waits for it. */
  waitingForModel: boolean;
  /** What it waits for is the engine, restarting after a crash. */
  restarting?: boolean;
}

export interface ViewState {
  transcript: readonly TranscriptItem[];
  /** Bumped when the screen is cleared and the transcript printed anew (/clear, /load). */
  transcriptEpoch: number;
  live: LiveReplyState | null;
  /** Notices that came while a reply streamed: shown under it, and printed after it once it ends. */
  held: readonly TranscriptItem[];
  /** Messages sent while a reply streams, oldest first: each goes out when a reply ends. */
  queued: readonly string[];
  /** Replies are shown as Markdown (the setting, or the model's kind when it is auto). */
  markdown: boolean;
  loading: LoadingState | null;
  status: StatusInfo;
  /** A yes/no question the next Enter answers (/delete, switching model on /load). */
  confirm: string | null;
  /** A question with several answers the next line chooses from (a session not saved). */
  choice: { question: string; answers: string } | null;
  /** Text a command (/edit) puts into the input box; `seq` tells repeated requests apart. */
  inputRequest: { text: string; seq: number } | null;
  /** /editor asked the screen to compose the message in $EDITOR; `seq` tells requests apart. */
  editorRequest: { seq: number } | null;
  /** Argument candidates for Tab completion. */
  completionSources: CompletionSources;
  /** /exit was given: the app should close (autosaving on the way). */
  exitRequested: boolean;
}
