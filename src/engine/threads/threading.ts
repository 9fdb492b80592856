// How onnxruntime's intra-op threads wait between the parallel parts of a forward pass.
//
// Spinning (busy-waiting) saves the wake-up latency of every parallel section: on an idle
// 2-core machine it made decode of GPT-2 small 15-40 % faster (q8 88 -> 108 tok/s at 16
// tokens of context, 56 -> 78 at 512; fp32 34 -> 39; q4 96 -> 116). On a machine whose
// cores are already busy it is a disaster: the spinning thread burns the time slices the
// others need, and decode fell to a quarter (q8 42 -> 11 tok/s at a load average of 15).
// So Parley spins only when, while the model loads, the other processes leave a core free
// for each of onnxruntime's threads (cpuProbe.ts measures them; the load average is the
// fallback where /proc/stat is missing, and it lags a minute behind, so it is only that).

export type Spinning = 'auto' | 'on' | 'off';

export type MachineLoad =
  /** Cores kept busy by other processes, measured over a moment. */
  | { kind: 'others'; busyCores: number; cores: number }
  /** The 1-minute load average, which counts Parley itself too. */
  | { kind: 'loadAverage'; loadAverage: number; cores: number };

/**
 * onnxruntime's intra-op thread count: one per core the process may use. Parley sets it:
 * onnxruntime's own default counts physical cores its own way, and on a 2-core machine it
 * ran a single thread (fp32 GPT-2 small decoded at 50 tok/s where two threads gave 86).
 */
export function intraOpThreads(cores: number): number {
  return Math.max(1, cores);
}

/** Whether to spin: `auto` spins when the cores others leave free fit onnxruntime's threads. */
export function shouldSpin(choice: Spinning, machine: MachineLoad): boolean {
  if (choice !== 'auto') return choice === 'on';
  const threads = intraOpThreads(machine.cores);
  // Half a core of slack: a terminal, an editor or a browser tab idling is no contender.
  if (machine.kind === 'others') return machine.cores - machine.busyCores >= threads - 0.5;
  return machine.loadAverage + (threads - 1) <= machine.cores;
}

/** PARLEY_SPIN=on|off|auto (default auto); anything else is an error that names it. */
export function spinningFromEnv(value: string | undefined): Spinning {
  if (value === undefined || value === '') return 'auto';
  if (value === 'auto' || value === 'on' || value === 'off') return value;
  throw new Error(`PARLEY_SPIN must be on, off or auto, not "${value}"`);
}

/** onnxruntime session options for a decoder: `threads` intra-op threads, spinning as chosen. */
export function threadingOptions(spin: boolean, threads: number): Record<string, unknown> {
  return { intraOpNumThreads: threads, extra: { session: { intra_op: { allow_spinning: spin ? '1' : '0' } } } };
}

/** The choice and why; the machine is measured only when the choice depends on it. */
export async function decideSpinning(
  choice: Spinning,
  measure: () => MachineLoad | Promise<MachineLoad>,
): Promise<{ spinning: boolean; why: string }> {
  if (choice !== 'auto') return { spinning: choice === 'on', why: spinningReason(choice, null, choice === 'on') };
  const machine = await measure();
  const spinning = shouldSpin(choice, machine);
  return { spinning, why: spinningReason(choice, machine, spinning) };
}

/** Why spinning is on or off, for /stats. */
export function spinningReason(choice: Spinning, machine: MachineLoad | null, spin: boolean): string {
  if (choice !== 'auto' || machine === null) return `PARLEY_SPIN=${choice}`;
  const state = spin ? 'free' : 'busy';
  if (machine.kind === 'others')
    return `cores ${state} when the model loaded: others kept ${machine.busyCores.toFixed(1)} of ${machine.cores} busy`;
  return `cores ${state} when the model loaded: load average ${machine.loadAverage.toFixed(1)} on ${machine.cores}`;
}
