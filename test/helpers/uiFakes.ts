// Helpers for driving the Ink UI in tests: key sequences and polling the rendered frame.

export const KEYS = {
  enter: '\r',
  altEnter: '\u001b\r',
  escape: '\u001b',
  tab: '\t',
  up: '\u001b[A',
  down: '\u001b[B',
  left: '\u001b[D',
  right: '\u001b[C',
  home: '\u001b[H',
  end: '\u001b[F',
  backspace: '\u007f',
  delete: '\u001b[3~',
  ctrlA: '\u0001',
  ctrlE: '\u0005',
  ctrlC: '\u0003',
  ctrlD: '\u0004',
  ctrlU: '\u0015',
  ctrlW: '\u0017',
  pasteStart: '\u001b[200~',
  pasteEnd: '\u001b[201~',
} as const;

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `read` until `accept` holds, returning the last value; fails with the last value
 * seen after `timeoutMs`, so a failing test shows what was on screen.
 */
export async function waitUntil<T>(read: () => T, accept: (value: T) => boolean, timeoutMs = 3000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (accept(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; last value:\n${String(value)}`);
    await sleep(5);
  }
}

/** Waits until the frame contains `text` (or matches the pattern). */
export function waitForFrame(lastFrame: () => string | undefined, expected: string | RegExp, timeoutMs = 3000): Promise<string> {
  const matches = (frame: string): boolean => (typeof expected === 'string' ? frame.includes(expected) : expected.test(frame));
  return waitUntil(() => lastFrame() ?? '', matches, timeoutMs, JSON.stringify(String(expected)));
}
