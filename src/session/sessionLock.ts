// A lock file that makes a session's check-and-write one step across processes. It holds
// its owner: pid, host and the process's start time. A pid alone cannot tell a live owner
// from a dead one: in a container Parley is often PID 1 after every restart, so a lock
// left by a killed Parley names our own pid; and an unrelated process can reuse the pid of
// a killed one. The start time tells these apart at once, with no waiting for a timeout.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { link, open, readFile, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { hostname } from 'node:os';
import { processRuns, removeDeadWritersFiles } from './atomicWrite.js';

export interface LockOwner {
  pid: number;
  /** null in the plain-pid locks of older Parleys: taken to be this host. */
  host: string | null;
  /** Identifies one run of the process (see processStartOf); null when unknown. */
  start: string | null;
}

/** What the staleness rule needs to know about this process and the machine. */
export interface LockContext {
  pid: number;
  host: string;
  /** True when this process holds the lock right now (another save of its own is in flight). */
  holdsIt: boolean;
  runs(pid: number): boolean;
  startOf(pid: number): string | null;
}

// A lock without a readable owner (its writer died between creating and writing it), or one
// from another host whose processes we cannot see, is abandoned after this long: saves take
// milliseconds.
export const UNKNOWN_OWNER_STALE_MS = 10_000;

/** Whether a lock may be taken over. Pure: every fact about processes comes from `here`. */
export function lockIsStale(owner: LockOwner | null, ageMs: number, here: LockContext): boolean {
  if (owner === null || (owner.host !== null && owner.host !== here.host)) return ageMs > UNKNOWN_OWNER_STALE_MS;
  // Our pid, but not one of our saves: a killed earlier process that had the same pid.
  if (owner.pid === here.pid) return !here.holdsIt;
  if (!here.runs(owner.pid)) return true;
  if (owner.start === null) return false;
  const start = here.startOf(owner.pid);
  return start !== null && start !== owner.start;
}

export function parseLockOwner(text: string): LockOwner | null {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return validPid(Number(trimmed)) ? { pid: Number(trimmed), host: null, start: null } : null;
  try {
    const value = JSON.parse(trimmed) as Partial<Record<keyof LockOwner, unknown>>;
    if (typeof value !== 'object' || value === null || !validPid(value.pid)) return null;
    return {
      pid: value.pid,
      host: typeof value.host === 'string' ? value.host : null,
      start: typeof value.start === 'string' ? value.start : null,
    };
  } catch {
    return null;
  }
}

function validPid(pid: unknown): pid is number {
  return typeof pid === 'number' && Number.isInteger(pid) && pid > 0;
}

/**
 * When process `pid` started, as text that differs between two processes that had the same
 * pid. Linux: the boot id and the start time in clock ticks from /proc; elsewhere `ps`.
 * null when neither is available.
 */
export function processStartOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses; fields after it do not.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = fields[19];
    if (ticks !== undefined && /^\d+$/.test(ticks)) return `${bootId()}:${ticks}`;
  } catch {
    // No /proc (macOS, BSD) or the process is gone.
  }
  try {
    const started = execFileSync('ps', ['-o', 'lstart=', '-p', String(pid)], {
      encoding: 'utf8',
      timeout: 2000,
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    return started === '' ? null : started;
  } catch {
    return null;
  }
}

let cachedBootId: string | undefined;
function bootId(): string {
  if (cachedBootId === undefined) {
    try {
      cachedBootId = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
    } catch {
      cachedBootId = '';
    }
  }
  return cachedBootId;
}

let ownStart: string | null | undefined;
function ownOwner(): LockOwner {
  if (ownStart === undefined) ownStart = processStartOf(process.pid);
  return { pid: process.pid, host: hostname(), start: ownStart };
}

/** Lock files this process holds now. */
const held = new Set<string>();

const POLL_MS = 25;

/**
 * Creates the lock file, waiting up to `waitMs` for a live holder and taking over a stale
 * lock at once. Returns the release function, or null when a live holder kept it all along.
 * File system errors other than "exists" are thrown as they are.
 */
export async function acquireLock(lock: string, waitMs: number): Promise<(() => Promise<void>) | null> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    if (await tryCreate(lock)) {
      held.add(lock);
      await removeStaleStaging(lock);
      return async () => {
        held.delete(lock);
        await unlink(lock).catch(() => undefined);
      };
    }
    if (await takeOverIfStale(lock)) continue;
    if (Date.now() > deadline) return null;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

let stagingCount = 0;

async function tryCreate(lock: string): Promise<boolean> {
  // The owner is written beside the lock and linked into place: link() creates the lock with
  // its content in one step, so a process killed at any moment never leaves a lock without an
  // owner (which only a long timeout could clear). File systems without hard links fall back
  // to create-then-write.
  // One staging file per attempt: two saves of this process may be creating the same lock.
  const staging = `${lock}.${process.pid}.${++stagingCount}.owner`;
  inFlight.add(staging);
  try {
    await writeFile(staging, JSON.stringify(ownOwner()), { mode: 0o600 });
    await link(staging, lock);
    return true;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return false;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EXDEV') throw error;
  } finally {
    await unlink(staging).catch(() => undefined);
    inFlight.delete(staging);
  }
  return createThenWrite(lock);
}

/** Staging files this process is writing now. */
const inFlight = new Set<string>();

/** Removes the staging files of processes killed while creating this lock (we hold it now). */
function removeStaleStaging(lock: string): Promise<void> {
  return removeDeadWritersFiles(dirname(lock), `${basename(lock)}.`, '.owner', inFlight);
}

async function createThenWrite(lock: string): Promise<boolean> {
  let handle;
  try {
    handle = await open(lock, 'wx', 0o600);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
  try {
    await handle.writeFile(JSON.stringify(ownOwner()));
  } finally {
    await handle.close();
  }
  return true;
}

/** Removes the lock if it is stale; true when it is gone (removed, or released meanwhile). */
async function takeOverIfStale(lock: string): Promise<boolean> {
  let text: string;
  let ageMs: number;
  try {
    const [content, info] = await Promise.all([readFile(lock, 'utf8'), stat(lock)]);
    text = content;
    ageMs = Date.now() - info.mtimeMs;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT';
  }
  const here: LockContext = { pid: process.pid, host: hostname(), holdsIt: held.has(lock), runs: processRuns, startOf: processStartOf };
  if (!lockIsStale(parseLockOwner(text), ageMs, here)) return false;
  // Another process may have taken it over since we read it: remove only what we judged.
  const now = await readFile(lock, 'utf8').catch(() => null);
  if (now === null) return true;
  if (now !== text) return false;
  await unlink(lock).catch(() => undefined);
  return true;
}
