// CPU time of single threads of this process, from Linux's per-thread accounting.
// process.cpuUsage() sums every thread, and Node 20 has no process.threadCpuUsage(), so the
// UI-thread benchmark reads /proc/self/task/<tid>/schedstat (nanoseconds on CPU) instead.
import { readdirSync, readFileSync } from 'node:fs';

/** Ids of the threads of this process now. The main thread's id is the process id. */
export function threadIds(): number[] {
  return readdirSync('/proc/self/task').map(Number);
}

/** Nanoseconds thread `tid` of this process has run; 0 if it has ended. */
function threadCpuNs(tid: number): number {
  try {
    return Number(readFileSync(`/proc/self/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
  } catch {
    // A thread that ended took its time with it; the benchmark's threads live throughout.
    return 0;
  }
}

export const cpuNsOf = (tids: Iterable<number>): number => [...tids].reduce((sum, tid) => sum + threadCpuNs(tid), 0);
