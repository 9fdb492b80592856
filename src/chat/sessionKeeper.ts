// The session in use and its file: every change to the session goes through here, and so
// does every save, one after the other.
import { sessionNameError } from '../session/sessionNames.js';
import { saveSession, type SessionStore } from '../session/sessionStore.js';
import type { Session } from '../session/types.js';

export interface SessionKeeperInput {
  store: SessionStore;
  session: Session;
  /** The model in use as the session should remember it; null keeps the session's. */
  modelRef: () => string | null;
  /** A save failed with a message different from the last one. */
  onSaveError: (message: string) => void;
  /** The session or its saved state changed. */
  onChange: () => void;
}

export class SessionKeeper {
  readonly store: SessionStore;
  private current: Session;
  private saving: Promise<void> = Promise.resolve();
  private lastSaveError: string | null = null;

  constructor(private readonly input: SessionKeeperInput) {
    this.store = input.store;
    this.current = input.session;
  }

  get session(): Session {
    return this.current;
  }

  /** Why the last save failed; null once a save succeeded (or nothing needed saving). */
  get unsaved(): string | null {
    return this.lastSaveError;
  }

  set(session: Session): void {
    this.current = session;
    this.input.onChange();
  }

  /** A save made outside autosave (/save) succeeded: the session is saved as `name`. */
  saved(name: string, revision: number, updatedAt: string): void {
    this.lastSaveError = null;
    this.set({ ...this.current, name, revision, updatedAt });
  }

  /** Another session takes this one's place (/new, /load): its save state starts afresh. */
  replace(session: Session): void {
    this.lastSaveError = null;
    this.set(session);
  }

  /**
   * Saves the session under a new name (after a conflict or a failed save under its own);
   * the session in memory takes that name. Returns why it could not, or null.
   */
  async saveAs(name: string): Promise<string | null> {
    const nameError = sessionNameError(name);
    if (nameError) return nameError;
    return this.serialized(async () => {
      if (await this.store.exists(name).catch(() => false)) return `a session "${name}" already exists; choose another name`;
      const result = await saveSession(this.store, {
        ...this.current,
        name,
        revision: 0,
        model: this.input.modelRef() ?? this.current.model,
      });
      if (!result.ok) return result.error.message;
      this.lastSaveError = null;
      this.current = { ...this.current, name, revision: result.session.revision, updatedAt: result.session.updatedAt };
      this.input.onChange();
      return null;
    });
  }

  /** Applies `change` to the session as it is now (not as it was when some work began). */
  change(change: (session: Session) => Session): void {
    this.set(change(this.current));
  }

  /**
   * Runs a file operation on the session after the saves before it, so an explicit /save
   * or rename never races an autosave with the same revision.
   */
  serialized<T>(operation: () => Promise<T>): Promise<T> {
    const result = this.saving.then(operation);
    this.saving = result.then(
      () => undefined,
      () => undefined,
    );
    return result;
  }

  /** Saves when there is something to save; a failure is reported, never thrown. */
  async autosave(): Promise<void> {
    const run = async (): Promise<void> => {
      const session = this.current;
      if (session.revision === 0 && session.conversation.turns.length === 0) return;
      const result = await saveSession(this.store, { ...session, model: this.input.modelRef() ?? session.model });
      if (!result.ok) {
        const repeated = result.error.message === this.lastSaveError;
        this.lastSaveError = result.error.message;
        if (!repeated) {
          this.input.onSaveError(result.error.message);
          this.input.onChange();
        }
        return;
      }
      const wasUnsaved = this.lastSaveError !== null;
      this.lastSaveError = null;
      if (wasUnsaved) this.input.onChange();
      // The session may have changed while it was written; only the file's bookkeeping is new.
      if (this.current.name === session.name) {
        this.current = { ...this.current, revision: result.session.revision, updatedAt: result.session.updatedAt };
      }
    };
    await this.serialized(run);
  }
}
