// A tmux server of the test's own (-L), so a test never touches anyone's tmux sessions, with
// one pane to type into and read the screen of.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './fixtures.js';
import { waitUntil } from './waitFor.js';

export const hasTmux = ((): boolean => {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

export const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** The shell line that runs the built CLI with `env` set and `args` passed, each quoted. */
export function cliCommand(env: Record<string, string>, args: readonly string[]): string {
  return [
    'env',
    ...Object.entries(env).map(([k, v]) => `${k}=${shellQuote(v)}`),
    shellQuote(process.execPath),
    shellQuote(path.join(REPO_ROOT, 'dist', 'src', 'cli.js')),
    ...args.map(shellQuote),
  ].join(' ');
}

export interface PaneOptions {
  columns?: number;
  rows?: number;
  /** The tmux session's name. */
  name?: string;
  /** Run this shell command in the pane (`sh -c`) instead of an interactive `sh`. */
  command?: string;
}

export class TmuxPane {
  private readonly socket = `parley-e2e-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  private readonly pane: string;

  constructor({ columns = 100, rows = 40, name = 'e2e', command }: PaneOptions = {}) {
    this.pane = name;
    const shell = command === undefined ? ['sh'] : ['sh', '-c', command];
    this.tmux('new-session', '-d', '-s', this.pane, '-x', String(columns), '-y', String(rows), ...shell);
  }

  screen(): string {
    return this.tmux('capture-pane', '-p', '-t', this.pane);
  }

  waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<string> {
    return waitUntil(
      () => this.screen(),
      (text) => pattern.test(text),
      timeoutMs,
      String(pattern),
      50,
    );
  }

  /** Types `text` without Enter. */
  typeText(text: string): void {
    this.tmux('send-keys', '-t', this.pane, '-l', text);
  }

  typeLine(line: string): void {
    this.tmux('send-keys', '-t', this.pane, '-l', line);
    this.tmux('send-keys', '-t', this.pane, 'Enter');
  }

  key(name: string): void {
    this.tmux('send-keys', '-t', this.pane, name);
  }

  /** Resizes the window, as a person dragging its corner would. */
  resize(columns: number, rows: number): void {
    this.tmux('resize-window', '-t', this.pane, '-x', String(columns), '-y', String(rows));
  }

  /** Sets a tmux server option (set-clipboard, allow-passthrough). */
  setOption(name: string, value: string): void {
    this.tmux('set-option', '-s', name, value);
  }

  /** tmux's newest paste buffer (what OSC 52 put there with set-clipboard on). */
  pasteBuffer(): string {
    return this.tmux('show-buffer');
  }

  /** Closes the terminal, as a person closing the window would: its processes get SIGHUP. */
  killSession(): void {
    this.tmux('kill-session', '-t', this.pane);
  }

  close(): void {
    try {
      this.tmux('kill-server');
    } catch {
      // Already gone with its last pane.
    }
  }

  private tmux(...args: string[]): string {
    // stderr goes into the error thrown, not onto the test's output.
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  }
}
