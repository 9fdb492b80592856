// The session in use and its file: every change to the session goes through here, and so
// does every save, one after the other.
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

  set(session: Session): void {
    this.current = session;
    this.input.onChange();
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
        if (result.error.message !== this.lastSaveError) this.input.onSaveError(result.error.message);
        this.lastSaveError = result.error.message;
        return;
      }
      this.lastSaveError = null;
      // The session may have changed while it was written; only the file's bookkeeping is new.
      if (this.current.name === session.name) {
        this.current = { ...this.current, revision: result.session.revision, updatedAt: result.session.updatedAt };
      }
    };
    await this.serialized(run);
  }
}
