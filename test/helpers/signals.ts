// Signals sent to a child process in a test. Two signals of one kind sent while the first is
// still pending reach the process as one, so a test that sends a second one (a second Ctrl+C)
// first waits for the kernel to have handed over the first.
import { readFile } from 'node:fs/promises';
import { constants } from 'node:os';

/** Whether the kernel has handed `signal` to the process (Linux: /proc/PID/status); true once the process is gone. */
export async function signalDelivered(pid: number, signal: NodeJS.Signals): Promise<boolean> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => null);
  if (status === null) return true;
  const bit = 1n << BigInt(constants.signals[signal] - 1);
  const pending = [...status.matchAll(/^(?:SigPnd|ShdPnd):\s*([0-9a-f]+)$/gm)].map((m) => BigInt(`0x${m[1]}`));
  return pending.every((mask) => (mask & bit) === 0n);
}
