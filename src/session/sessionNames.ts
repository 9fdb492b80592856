// Session names become file names (`<name>.json`) inside the sessions directory, so a
// name must not be able to point anywhere else or be mangled by any common file system.

export const MAX_SESSION_NAME_LENGTH = 64;
export const SESSION_FILE_EXTENSION = '.json';

// Windows refuses these as file names with any extension.
const RESERVED = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])$/i;
// Control and format characters (NUL, newlines, bidi overrides) and the characters that
// Windows forbids in names; the latter so session folders can be synced across systems.
const FORBIDDEN = /[\p{Cc}\p{Cf}\u2028\u2029<>:"|?*]/u;

/** Null when `name` is a valid session name, else a one-line reason. */
export function sessionNameError(name: string): string | null {
  if (name.length === 0) return 'a session name cannot be empty';
  if (name.length > MAX_SESSION_NAME_LENGTH) return `a session name can have at most ${MAX_SESSION_NAME_LENGTH} characters`;
  if (name.includes('/') || name.includes('\\')) return `a session name cannot contain "/" or "\\" (got ${JSON.stringify(name)})`;
  if (name.includes('..')) return `a session name cannot contain ".." (got ${JSON.stringify(name)})`;
  if (FORBIDDEN.test(name)) return `a session name cannot contain control characters or any of <>:"|?* (got ${JSON.stringify(name)})`;
  // A leading dot would hide the file (and is how temporary and lock files are named).
  if (name.startsWith('.')) return `a session name cannot start with "." (got ${JSON.stringify(name)})`;
  if (name.trim() !== name || name.endsWith('.'))
    return `a session name cannot start or end with a space or end with "." (got ${JSON.stringify(name)})`;
  if (RESERVED.test(name)) return `"${name}" is a reserved device name on Windows`;
  return null;
}

export function sessionFileName(name: string): string {
  return name + SESSION_FILE_EXTENSION;
}

/** The session name a file name stands for, or null when it is not a session file. */
export function sessionNameOfFile(fileName: string): string | null {
  if (!fileName.endsWith(SESSION_FILE_EXTENSION) || fileName.startsWith('.')) return null;
  return fileName.slice(0, -SESSION_FILE_EXTENSION.length);
}

/** A fresh name for an unnamed chat, from its start time: `chat-2025-01-31-1405`. */
export function defaultSessionName(now: Date = new Date()): string {
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `chat-${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}-${pad(now.getHours())}${pad(now.getMinutes())}`;
}

/** `base`, or `base-2`, `base-3`, … : the first that `taken` does not hold. */
export function uniqueSessionName(base: string, taken: ReadonlySet<string>): string {
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) {
    const candidate = `${base}-${n}`;
    if (!taken.has(candidate)) return candidate;
  }
}
