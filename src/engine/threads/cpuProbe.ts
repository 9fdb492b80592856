// Measures how busy the other processes keep the machine's cores: the whole machine's busy
// time (/proc/stat) over a window, minus this process's own CPU time. Every thread of
// Parley counts as its own, so loading the model and the tokenizer meanwhile is no noise.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MachineLoad } from './threading.js';

/** USER_HZ, the unit of /proc/stat on every Linux architecture Node runs on. */
const TICKS_PER_SECOND = 100;
/** A shorter window says more about chance than about load. */
const MIN_WINDOW_MS = 250;

interface Sample {
  at: number;
  /** Busy seconds of all cores (null where /proc/stat cannot be read). */
  machineBusy: number | null;
  ownBusy: number;
}

/** The busy seconds of all cores from /proc/stat's first line: everything but idle and iowait. */
export function busySecondsFromProcStat(text: string): number | null {
  const line = text.split('\n', 1)[0] ?? '';
  const fields = line.trim().split(/\s+/);
  if (fields[0] !== 'cpu' || fields.length < 5) return null;
  const ticks = fields.slice(1).map(Number);
  if (ticks.some((t) => !Number.isFinite(t))) return null;
  // user nice system idle iowait irq softirq steal guest guest_nice; guests are in user/nice.
  const busy = ticks.slice(0, 8).reduce((sum, t, i) => (i === 3 || i === 4 ? sum : sum + t), 0);
  return busy / TICKS_PER_SECOND;
}

function sample(): Sample {
  let machineBusy: number | null;
  try {
    machineBusy = busySecondsFromProcStat(readFileSync('/proc/stat', 'utf8'));
  } catch {
    machineBusy = null;
  }
  const own = process.cpuUsage();
  return { at: performance.now(), machineBusy, ownBusy: (own.user + own.system) / 1e6 };
}

export interface CpuProbe {
  /** The machine's load from the start until now (waiting out the shortest window). */
  finish(): Promise<MachineLoad>;
}

export function startCpuProbe(): CpuProbe {
  const start = sample();
  const cores = os.availableParallelism();
  return {
    async finish() {
      const wait = MIN_WINDOW_MS - (performance.now() - start.at);
      if (wait > 0) await sleep(wait);
      const end = sample();
      if (start.machineBusy === null || end.machineBusy === null) return { kind: 'loadAverage', loadAverage: os.loadavg()[0]!, cores };
      const seconds = (end.at - start.at) / 1000;
      const others = end.machineBusy - start.machineBusy - (end.ownBusy - start.ownBusy);
      return { kind: 'others', busyCores: Math.max(0, others / seconds), cores };
    },
  };
}
