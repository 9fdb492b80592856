// What slash commands can do to the chat. The controller implements it; the command table
// only parses and checks arguments and calls one of these.
import type { SamplingParams } from '../../engine/protocol.js';
import type { NoticeTone } from '../transcriptItems.js';

export interface ChatCommands {
  notice(text: string, tone?: NoticeTone): void;
  setSampling<K extends keyof SamplingParams>(key: K, value: SamplingParams[K], global: boolean): Promise<void>;
  /** Loads a model in the background; the old one stays if it fails. */
  switchModel(ref: string): void;
  showModels(): Promise<void>;
  /** Sets the persona text; 'none' clears it. */
  setPersona(text: string): Promise<void>;
  showPersona(): void;
  usePersonaPreset(name: string): Promise<void>;
  newSession(name: string | null): Promise<void>;
  saveSession(name: string | null): Promise<void>;
  loadSession(name: string): Promise<void>;
  listSessions(): Promise<void>;
  /** Asks for confirmation first. */
  deleteSession(name: string): Promise<void>;
  exportSession(file: string | null): Promise<void>;
  retry(): Promise<void>;
  undo(): Promise<void>;
  editLast(): Promise<void>;
  showContext(): Promise<void>;
  showStats(): void;
  showSettings(): void;
  showHelp(command: string | null): void;
  clearScreen(): void;
  requestExit(): void;
}
