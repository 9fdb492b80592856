// Waiting for something to happen by polling for it, never by sleeping a fixed time: a fixed
// sleep is either longer than needed or, on a loaded machine, too short.

export interface WaitOptions {
  /** How long to wait before failing (default 3 s). */
  timeoutMs?: number;
  /** How often to look (default 5 ms). */
  intervalMs?: number;
  /** What is awaited, for the failure message. */
  what?: string;
  /** What the test saw last (a screen, a log), for the failure message. */
  detail?: () => string;
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves once `condition` holds; fails after `timeoutMs`, naming what it waited for. */
export async function waitFor(condition: () => boolean | Promise<boolean>, options: WaitOptions = {}): Promise<void> {
  const { timeoutMs = 3000, intervalMs = 5, what = 'condition', detail } = options;
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${detail ? `:\n${detail()}` : ''}`);
    await pause(intervalMs);
  }
}

/**
 * Polls `read` until `accept` holds, returning the last value; fails with the last value
 * seen after `timeoutMs`, so a failing test shows what was on screen.
 */
export async function waitUntil<T>(
  read: () => T,
  accept: (value: T) => boolean,
  timeoutMs = 3000,
  what = 'condition',
  intervalMs = 5,
): Promise<T> {
  let value!: T; // waitFor looks at least once
  await waitFor(() => accept((value = read())), { timeoutMs, intervalMs, what, detail: () => `last value:\n${String(value)}` });
  return value;
}
