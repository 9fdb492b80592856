// What a slash command (and the controller) works with: the chat's parts, and the few
// operations that span several of them. Everything else is done on the parts themselves.
import type { EngineClient } from '../engine/engineClient.js';
import type { PromptFormat } from '../prompt/promptFormat.js';
import type { SessionStore } from '../session/sessionStore.js';
import type { SessionsDirSource } from '../session/sessionsDir.js';
import type { SettingsStore } from '../settings/settingsFile.js';
import type { EffectiveSettings } from '../settings/settingsPrecedence.js';
import type { Session } from '../session/types.js';
import type { ChatSettings } from './chatSettings.js';
import type { ContextMeter } from './contextMeter.js';
import type { MessageQueue } from './messageQueue.js';
import type { ModelSlot } from './modelSlot.js';
import type { Questions } from './questions.js';
import type { SessionKeeper } from './sessionKeeper.js';
import type { TurnRunner } from './turnRunner.js';
import type { UnsavedGuard } from './unsavedSession.js';
import type { TranscriptItem } from './view/transcriptItems.js';
import type { ViewStore } from './view/viewStore.js';

/** How /copy reached the clipboard: the terminal's OSC 52, or that and tmux's passthrough. */
export type ClipboardRoute = 'terminal' | 'tmux';

export interface ChatContext {
  readonly engine: EngineClient;
  readonly store: SessionStore;
  /** Where `--global` writes; null when the settings file cannot be used. */
  readonly settingsFile: SettingsStore | null;
  readonly historyFile: string;
  readonly sessionsDirSource: SessionsDirSource;
  /** Puts text on the clipboard through the terminal (OSC 52); null when there is no terminal. */
  copyToClipboard(text: string): ClipboardRoute | null;
  /** What the screen shows; notices go here. */
  readonly view: ViewStore;
  /** The settings layers: flags, the settings file (the session's own are in the session). */
  readonly settings: ChatSettings;
  readonly keeper: SessionKeeper;
  readonly meter: ContextMeter;
  readonly slot: ModelSlot;
  readonly turns: TurnRunner;
  /** Messages sent while a reply is on its way. */
  readonly queue: MessageQueue;
  readonly questions: Questions;
  readonly unsaved: UnsavedGuard;
  now(): Date;
  /** The settings in effect, with the reply length fitted to the model in use. */
  effective(): EffectiveSettings;
  /** The model's prompt format; the transcript when its chat template fails. */
  format(): PromptFormat | null;
  /** The model in use as a session remembers it: folders absolute, so they work from anywhere. */
  storedModelRef(): string | null;
  /** A changed session: the status bar and the context count follow it. */
  setSession(session: Session): void;
  /** Swaps in another session (/new, /load): the screen shows its transcript anew. */
  replaceSession(session: Session, intro: string): void;
  /** Clears the screen and prints `transcript` in place of the old one. */
  reprint(transcript: TranscriptItem[]): void;
  /** Shows in the status bar what the parts know now. */
  refreshStatus(): void;
  /** Lists again what Tab completes arguments from (session names change). */
  refreshCompletionSources(): Promise<void>;
}
