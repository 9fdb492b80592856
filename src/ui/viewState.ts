// The state the chat screen renders, kept by ChatController and read by App.
import type { CompletionSources } from './completion.js';
import type { LoadingState } from './ModelLoading.js';
import type { StatusInfo } from './StatusBar.js';
import type { TranscriptItem } from './transcriptItems.js';

export interface LiveReplyState {
  text: string;
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
  loading: LoadingState | null;
  status: StatusInfo;
  /** A yes/no question the next Enter answers (/delete, switching model on /load). */
  confirm: string | null;
  /** A question with several answers the next line chooses from (a session not saved). */
  choice: { question: string; answers: string } | null;
  /** Text a command (/edit) puts into the input box; `seq` tells repeated requests apart. */
  inputRequest: { text: string; seq: number } | null;
  /** Argument candidates for Tab completion. */
  completionSources: CompletionSources;
  /** /exit was given: the app should close (autosaving on the way). */
  exitRequested: boolean;
}
