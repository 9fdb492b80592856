// Writes a file so that a crash or kill -9 at any moment leaves either the old file or the
// new one, complete: write a temporary file in the same directory, fsync it, rename it over
// the target (atomic within one file system), then fsync the directory so the rename
// itself survives a power loss.
import { randomBytes } from 'node:crypto';
import { open, readdir, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export interface AtomicWriteOptions {
  /** File mode of a newly created file; default 0o600 (chats are private). */
  mode?: number;
}

/** Temporary files this process is writing now. */
const writing = new Set<string>();

/** Pieces of text are written in blocks of about this many characters. */
const BLOCK_CHARS = 1 << 20;

/** `data` is the whole text, or its pieces in order (a long text is then never held whole). */
export async function writeFileAtomic(path: string, data: string | Iterable<string>, options: AtomicWriteOptions = {}): Promise<void> {
  const dir = dirname(path);
  const temp = join(dir, tempName(basename(path)));
  let created = false;
  writing.add(temp);
  try {
    const handle = await open(temp, 'wx', options.mode ?? 0o600);
    created = true;
    try {
      if (typeof data === 'string') {
        await handle.writeFile(data, 'utf8');
      } else {
        // writeFile on a handle goes on from where the last write ended, and writes all of it.
        let block: string[] = [];
        let chars = 0;
        for (const piece of data) {
          block.push(piece);
          chars += piece.length;
          if (chars < BLOCK_CHARS) continue;
          await handle.writeFile(block.join(''), 'utf8');
          block = [];
          chars = 0;
        }
        if (block.length > 0) await handle.writeFile(block.join(''), 'utf8');
      }
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
    created = false;
  } finally {
    writing.delete(temp);
    if (created) await unlink(temp).catch(() => undefined);
  }
  await syncDirectory(dir);
}

/**
 * Removes temporary files of `target` left by writers that were killed mid-write. Only files
 * of processes that no longer run are removed, so a concurrent writer is never disturbed;
 * files named with our own pid that we are not writing come from an earlier process that
 * had this pid (PID 1 in a container).
 */
export function removeStaleTempFiles(path: string): Promise<void> {
  return removeDeadWritersFiles(dirname(path), `.${basename(path)}.`, '.tmp', writing);
}

/**
 * Removes the files in `dir` named `<prefix><pid>.….<suffix>` whose writer no longer runs, or
 * that carry our own pid but are not among `ours` (files this process is writing now).
 */
export async function removeDeadWritersFiles(dir: string, prefix: string, suffix: string, ours: ReadonlySet<string>): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith(suffix)) continue;
    const pid = Number(name.slice(prefix.length).split('.')[0]);
    const file = join(dir, name);
    if (!Number.isInteger(pid)) continue;
    if (pid === process.pid ? !ours.has(file) : !processRuns(pid)) {
      await unlink(file).catch(() => undefined);
    }
  }
}

export function processRuns(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// Hidden, and named after the target and the writer's pid so stale ones can be found.
function tempName(target: string): string {
  return `.${target}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
}

// Best effort: some platforms (Windows) and file systems cannot fsync a directory. The
// rename is atomic regardless; only its durability across a power loss is weaker there.
// Failing here would report a save that did happen as failed.
async function syncDirectory(dir: string): Promise<void> {
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // See above.
  }
}
