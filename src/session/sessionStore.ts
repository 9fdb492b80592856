// Saved sessions: one `<name>.json` per session in the sessions directory (see
// sessions/README.md for the format).
//
// Guarantees:
// - writes are atomic (atomicWrite.ts): a crash leaves the old file or the new one;
// - a save carries the revision it was loaded at; if the file on disk has moved on (another
//   Parley saved in between) the save is refused, naming the file, instead of losing turns;
//   a per-session lock file makes check-and-write one step across processes
//   (sessionLock.ts: a lock whose owner is gone is taken over at once);
// - a file that cannot be read, is not valid, or comes from a newer Parley is reported with
//   its path and never written over, renamed onto or deleted (unless deletion is forced);
// - nothing is written outside the directory: names are validated (sessionNames.ts);
// - a failed save (disk full, read-only) throws a SessionError and changes nothing in memory.
import { link, lstat, mkdir, readdir, readFile, realpath, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { removeStaleTempFiles, writeFileAtomic } from './atomicWrite.js';
import { type FileIdentity, identityOf, sameIdentity } from './fileIdentity.js';
import { emptyConversation } from '../prompt/conversation.js';
import { acquireLock } from './sessionLock.js';
import { parseSession, serializeSessionChunks } from './sessionSchema.js';
import { sessionFileName, sessionNameError, sessionNameOfFile } from './sessionNames.js';
import type { Session } from './types.js';
import { errorMessage } from '../errors.js';

export type Action = 'saved' | 'renamed' | 'deleted';

export type SessionErrorCode =
  | 'bad-name'
  | 'not-found'
  | 'unreadable'
  | 'invalid'
  | 'future-version'
  | 'conflict'
  | 'exists'
  | 'busy'
  | 'disk-full'
  | 'read-only'
  | 'write-failed';

export class SessionError extends Error {
  constructor(
    readonly code: SessionErrorCode,
    message: string,
    /** The file concerned, when there is one. */
    readonly file: string | null = null,
  ) {
    super(message);
    this.name = 'SessionError';
  }
}

export type SessionListEntry =
  | { ok: true; name: string; file: string; createdAt: string; updatedAt: string; turns: number; model: string | null; revision: number }
  | { ok: false; name: string; file: string; error: string };

export interface NewSessionOptions {
  persona?: string | null;
  model?: string | null;
  dtype?: Session['dtype'];
  params?: Session['params'];
  now?: Date;
}

/** A session that has never been saved (revision 0). */
export function newSession(name: string, options: NewSessionOptions = {}): Session {
  const now = (options.now ?? new Date()).toISOString();
  return {
    name,
    createdAt: now,
    updatedAt: now,
    model: options.model ?? null,
    dtype: options.dtype ?? null,
    params: options.params ?? {},
    conversation: emptyConversation(options.persona ?? null),
    revision: 0,
  };
}

const LOCK_WAIT_MS = 3000;

export interface SessionStoreOptions {
  /** How long a save waits for another process's lock on the same session; default 3 s. */
  lockWaitMs?: number;
}

export class SessionStore {
  private readonly lockWaitMs: number;
  /** Per file: the revision this store last read or wrote there, and the file as it was then. */
  private readonly seen = new Map<string, { revision: number; identity: FileIdentity }>();

  constructor(
    readonly dir: string,
    options: SessionStoreOptions = {},
  ) {
    this.lockWaitMs = options.lockWaitMs ?? LOCK_WAIT_MS;
  }

  /** The file of a session; throws 'bad-name' for a name that could escape the directory. */
  pathOf(name: string): string {
    const error = sessionNameError(name);
    if (error !== null) throw new SessionError('bad-name', error);
    return join(this.dir, sessionFileName(name));
  }

  /** All sessions, newest first; a file that cannot be used is listed as an error entry. */
  async list(): Promise<SessionListEntry[]> {
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (error) {
      if (codeOf(error) === 'ENOENT') return [];
      throw new SessionError('unreadable', `cannot list sessions in ${this.dir}: ${errorMessage(error)}`, this.dir);
    }
    const entries = await Promise.all(
      names.flatMap((fileName) => {
        const name = sessionNameOfFile(fileName);
        return name === null ? [] : [this.entry(name, join(this.dir, fileName))];
      }),
    );
    const good = entries.filter((e) => e.ok).sort((a, b) => b.updatedAt.localeCompare(a.updatedAt));
    const bad = entries.filter((e) => !e.ok).sort((a, b) => a.name.localeCompare(b.name));
    return [...good, ...bad];
  }

  async exists(name: string): Promise<boolean> {
    try {
      await stat(this.pathOf(name));
      return true;
    } catch (error) {
      if (codeOf(error) === 'ENOENT') return false;
      throw error;
    }
  }

  async load(name: string): Promise<Session> {
    const file = this.pathOf(name);
    const text = await readSessionText(file, name);
    if (text === null) throw new SessionError('not-found', `there is no session "${name}" (${file})`, file);
    const session = parseOrThrow(text, name, file);
    this.seen.set(file, { revision: session.revision, identity: text.identity });
    return session;
  }

  /** The saved session, or a new one (not yet saved) when there is none by that name. */
  async loadOrCreate(name: string, init: NewSessionOptions = {}): Promise<Session> {
    try {
      return await this.load(name);
    } catch (error) {
      if (error instanceof SessionError && error.code === 'not-found') return newSession(name, init);
      throw error;
    }
  }

  /**
   * Writes the session and returns it with the next revision and a new updatedAt. Refuses
   * ('conflict') when the file on disk is at another revision than `session.revision`.
   * A file that vanished meanwhile is written anew: nothing is lost by that.
   */
  async save(session: Session, now: Date = new Date()): Promise<Session> {
    const file = this.pathOf(session.name);
    try {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
    } catch (error) {
      throw writeError(error, session.name, this.dir);
    }
    const saved = await this.withLock(file, session.name, 'saved', async () => {
      // The file as this store last read or wrote it is still at that revision: a long
      // session is not read and parsed again only to learn that.
      const seen = this.seen.get(file);
      const unchanged = seen !== undefined && seen.revision === session.revision && (await sameIdentity(file, seen.identity));
      const current = unchanged ? null : await readSessionText(file, session.name);
      if (current !== null) {
        const onDisk = parseOrThrow(current, session.name, file, 'not overwritten; save under another name');
        if (onDisk.revision !== session.revision) {
          throw new SessionError(
            'conflict',
            `session "${session.name}" was saved by another Parley meanwhile (revision ${onDisk.revision} on disk, ${session.revision} here): ` +
              `not overwritten; save under another name or reload it (${file})`,
            file,
          );
        }
      }
      const next: Session = { ...session, revision: session.revision + 1, updatedAt: now.toISOString() };
      try {
        await writeFileAtomic(file, serializeSessionChunks(next));
      } catch (error) {
        throw writeError(error, session.name, file);
      }
      const written = await stat(file).catch(() => null);
      if (written) this.seen.set(file, { revision: next.revision, identity: identityOf(written) });
      return next;
    });
    await removeStaleTempFiles(file);
    return saved;
  }

  /** Renames a session file; refuses to replace an existing session. */
  async rename(from: string, to: string): Promise<void> {
    const source = this.pathOf(from);
    const target = this.pathOf(to);
    if (from === to) return;
    await this.withLock(source, from, 'renamed', async () => {
      try {
        // link() fails if the target exists, so no session is ever replaced, even in a race.
        await link(source, target);
        await unlink(source);
      } catch (error) {
        const code = codeOf(error);
        if (code === 'ENOENT') throw new SessionError('not-found', `there is no session "${from}" (${source})`, source);
        if (code === 'EEXIST') throw new SessionError('exists', `a session "${to}" already exists (${target})`, target);
        if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV' && code !== 'ENOSYS')
          throw writeError(error, from, source, 'renamed');
        // File systems without hard links: check, then rename (a narrow race remains).
        if (await this.exists(to)) throw new SessionError('exists', `a session "${to}" already exists (${target})`, target);
        try {
          await rename(source, target);
        } catch (renameError) {
          throw writeError(renameError, from, source, 'renamed');
        }
      }
    });
  }

  /** Deletes a session; a file that is not a valid session is only deleted with `force`. */
  async delete(name: string, options: { force?: boolean } = {}): Promise<void> {
    const file = this.pathOf(name);
    await this.withLock(file, name, 'deleted', async () => {
      if (!options.force) {
        const text = await readSessionText(file, name);
        if (text === null) throw new SessionError('not-found', `there is no session "${name}" (${file})`, file);
        parseOrThrow(text, name, file, 'not deleted; remove the file by hand if you mean to');
      }
      try {
        await unlink(file);
      } catch (error) {
        if (codeOf(error) === 'ENOENT') throw new SessionError('not-found', `there is no session "${name}" (${file})`, file);
        throw writeError(error, name, file, 'deleted');
      }
    });
  }

  private async entry(name: string, file: string): Promise<SessionListEntry> {
    const nameError = sessionNameError(name);
    if (nameError !== null) return { ok: false, name, file, error: `${file}: the file name is not a valid session name (${nameError})` };
    try {
      const session = await this.load(name);
      return {
        ok: true,
        name,
        file,
        createdAt: session.createdAt,
        updatedAt: session.updatedAt,
        turns: session.conversation.turns.length,
        model: session.model,
        revision: session.revision,
      };
    } catch (error) {
      return { ok: false, name, file, error: errorMessage(error) };
    }
  }

  // A lock file per session. Waits briefly for a live holder: saves take milliseconds.
  private async withLock<T>(file: string, name: string, verb: Action, action: () => Promise<T>): Promise<T> {
    const lock = join(dirname(file), `.${basename(file)}.lock`);
    let release;
    try {
      release = await acquireLock(lock, this.lockWaitMs);
    } catch (error) {
      throw writeError(error, name, dirname(file), verb);
    }
    if (release === null) {
      throw new SessionError('busy', `session "${name}" is being saved by another Parley right now (lock ${lock}); try again`, file);
    }
    try {
      return await action();
    } finally {
      await release();
    }
  }
}

/**
 * Autosave: saves and reports instead of throwing, so a failed save (disk full, conflict)
 * never costs the conversation in memory. On success use the returned session (its
 * revision moved on) for the next save.
 */
export async function saveSession(
  store: SessionStore,
  session: Session,
): Promise<{ ok: true; session: Session } | { ok: false; error: SessionError }> {
  try {
    return { ok: true, session: await store.save(session) };
  } catch (error) {
    if (error instanceof SessionError) return { ok: false, error };
    return { ok: false, error: new SessionError('write-failed', `session "${session.name}" was not saved: ${errorMessage(error)}`) };
  }
}

/**
 * The file's text, null when it does not exist; strict UTF-8 so no byte is silently replaced.
 * `linkTarget` is the file a symbolic link points to: errors then name it and quote none of it,
 * since it may be any file of the user's.
 */
async function readSessionText(
  file: string,
  name: string,
): Promise<{ text: string; linkTarget: string | null; identity: FileIdentity } | null> {
  let bytes: Buffer;
  let linkTarget: string | null = null;
  let identity: FileIdentity;
  try {
    if ((await lstat(file)).isSymbolicLink()) linkTarget = await realpath(file);
    // Reading a FIFO or a device would wait for a writer or never end.
    const info = await stat(file);
    if (info.isDirectory()) throw new SessionError('unreadable', `${file}: is a directory, not a session file`, file);
    if (!info.isFile()) throw new SessionError('unreadable', `${file}: not a regular file, not a session file; left untouched`, file);
    bytes = await readFile(file);
    identity = identityOf(info);
  } catch (error) {
    if (error instanceof SessionError) throw error;
    const code = codeOf(error);
    if (code === 'ENOENT') return null;
    if (code === 'EISDIR') throw new SessionError('unreadable', `${file}: is a directory, not a session file`, file);
    throw new SessionError('unreadable', `cannot read session "${name}": ${file}: ${errorMessage(error)}`, file);
  }
  const what = linkTarget === null ? file : `${file} (a link to ${linkTarget})`;
  try {
    // A byte-order mark from a Windows editor is harmless; JSON.parse would trip on it.
    return { text: new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(bytes), linkTarget, identity };
  } catch {
    throw new SessionError('invalid', `${what}: not a valid session file (not UTF-8 text); left untouched`, file);
  }
}

function parseOrThrow(
  read: { text: string; linkTarget: string | null },
  name: string,
  file: string,
  consequence = 'left untouched',
): Session {
  const parsed = parseSession(read.text, name);
  if (parsed.ok) return parsed.session;
  const code = parsed.kind === 'future-version' ? 'future-version' : 'invalid';
  if (read.linkTarget !== null && parsed.kind === 'not-json') {
    throw new SessionError(
      code,
      `${file}: not a valid session file: it links to ${read.linkTarget}, which is not JSON; ${consequence}`,
      file,
    );
  }
  throw new SessionError(code, `${file}: not a valid session file: ${parsed.error}; ${consequence}`, file);
}

function writeError(error: unknown, name: string, where: string, action: Action = 'saved'): SessionError {
  const code = codeOf(error);
  const noSpace: Record<string, string> = {
    ENOSPC: 'the disk is full',
    EDQUOT: 'the disk quota is used up',
    EFBIG: 'the file would exceed the file size limit',
  };
  if (code !== undefined && code in noSpace) {
    return new SessionError('disk-full', `session "${name}" was not ${action}: ${noSpace[code]} (${where})`, where);
  }
  if (code === 'EROFS' || code === 'EACCES' || code === 'EPERM') {
    return new SessionError('read-only', `session "${name}" was not ${action}: ${where} is not writable (${code})`, where);
  }
  return new SessionError('write-failed', `session "${name}" was not ${action}: ${where}: ${errorMessage(error)}`, where);
}

function codeOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | null)?.code;
}
