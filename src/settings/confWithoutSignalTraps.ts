// conf writes through `atomically`, whose `when-exit` dependency traps every catchable signal
// when it is first imported, runs its clean-ups and then sends the same signal to the process
// again. Any process that loads the settings would so hear each Ctrl+C twice (one-shot mode's
// "first Ctrl+C stops the reply" quit at once) and each SIGTERM twice. Parley handles its own
// signals and exits through process.exit, where when-exit's 'exit' hook still runs its clean-ups,
// so only the signal traps are taken back here.
const TRAPPED = [
  'SIGHUP',
  'SIGINT',
  'SIGTERM',
  'SIGALRM',
  'SIGABRT',
  'SIGVTALRM',
  'SIGXCPU',
  'SIGXFSZ',
  'SIGUSR2',
  'SIGTRAP',
  'SIGSYS',
  'SIGQUIT',
  'SIGIOT',
  'SIGIO',
  'SIGPOLL',
  'SIGPWR',
  'SIGSTKFLT',
] as const;

import type ConfClass from 'conf';

const before = new Map(TRAPPED.map((signal) => [signal, new Set(process.listeners(signal))]));
const { default: Conf } = await import('conf');
for (const signal of TRAPPED) {
  for (const listener of process.listeners(signal)) {
    if (!before.get(signal)?.has(listener)) process.off(signal, listener);
  }
}

// The class's type too, under the same name, for annotations (conf's own constraint: an
// interface such as Settings has no index signature, so `unknown` values would not do).
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- conf's constraint, as said above
type Conf<T extends Record<string, any> = Record<string, unknown>> = ConfClass<T>;

export default Conf;
export type { Schema } from 'conf';
