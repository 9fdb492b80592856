// The chat's last line of defence: an error nothing else caught must not leave the terminal
// in raw mode or lose the conversation. It restores the terminal, saves the session, prints
// one line and exits non-zero.
import { errorLine } from '../errors.js';

export interface LastResortOptions {
  /** Puts the terminal back as it was (raw mode off, cursor shown). */
  restoreTerminal: () => void;
  /** Saves what can be saved; it gets a little time, not forever. */
  save: () => Promise<unknown>;
  writeLine: (line: string) => void;
  exit: (code: number) => void;
  /** How long the save may take before the process exits anyway. */
  saveTimeoutMs?: number;
  /** Where the events come from; the process by default. */
  events?: Pick<NodeJS.Process, 'on' | 'off'>;
}

/** Installs the handlers; returns how to remove them. */
export function installLastResort(options: LastResortOptions): () => void {
  const events = options.events ?? process;
  let handled = false;
  const onFatal = (error: unknown): void => {
    if (handled) return;
    handled = true;
    try {
      options.restoreTerminal();
    } catch {
      // The terminal may be gone; the save matters more.
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, options.saveTimeoutMs ?? 2000);
    });
    void Promise.race([options.save().catch(() => undefined), timeout]).then(() => {
      clearTimeout(timer);
      options.writeLine(`parley: ${errorLine(error)} (the session was saved where it could be)`);
      options.exit(1);
    });
  };
  events.on('uncaughtException', onFatal);
  events.on('unhandledRejection', onFatal);
  return () => {
    events.off('uncaughtException', onFatal);
    events.off('unhandledRejection', onFatal);
  };
}
