// A tmux server of the test's own (-L), so a test never touches anyone's tmux sessions, with
// one pane to type into and read the screen of.
import { execFileSync } from 'node:child_process';

export const hasTmux = ((): boolean => {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

export const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

export class TmuxPane {
  private readonly socket = `parley-e2e-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  private readonly pane = 'e2e';

  constructor(columns = 100, rows = 40) {
    this.tmux('new-session', '-d', '-s', this.pane, '-x', String(columns), '-y', String(rows), 'sh');
  }

  screen(): string {
    return this.tmux('capture-pane', '-p', '-t', this.pane);
  }

  async waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = this.screen();
      if (pattern.test(text)) return text;
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}; screen:\n${text}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  typeLine(line: string): void {
    this.tmux('send-keys', '-t', this.pane, '-l', line);
    this.tmux('send-keys', '-t', this.pane, 'Enter');
  }

  key(name: string): void {
    this.tmux('send-keys', '-t', this.pane, name);
  }

  close(): void {
    try {
      this.tmux('kill-server');
    } catch {
      // Already gone with its last pane.
    }
  }

  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.socket, ...args], { encoding: 'utf8' });
  }
}
