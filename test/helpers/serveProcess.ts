// `parley serve` as a child process, as a user starts it: the built CLI, on port 0, its
// stderr collected (the URL it prints, one line per request).
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { REPO_ROOT } from './fixtures.js';

export interface ServeProcess {
  child: ChildProcess;
  /** http://127.0.0.1:PORT/v1 */
  baseURL: string;
  /** Everything written to stderr so far. */
  stderr(): string;
  /** Resolves with the exit code (or the signal's name). */
  exited: Promise<number | string>;
  stop(): Promise<number | string>;
}

export async function startServe(args: string[], env: NodeJS.ProcessEnv = {}): Promise<ServeProcess> {
  const child = spawn(
    process.execPath,
    ['--single-threaded-gc', path.join(REPO_ROOT, 'dist', 'src', 'cli.js'), 'serve', '--port', '0', ...args],
    {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let err = '';
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  child.stdout!.resume();
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? -1)));
  const baseURL = await new Promise<string>((resolve, reject) => {
    const check = (): void => {
      const m = /on (http:\/\/[^\s]+\/v1)/.exec(err);
      if (m) {
        child.stderr!.off('data', check);
        resolve(m[1]!);
      }
    };
    child.stderr!.on('data', check);
    void exited.then((code) => reject(new Error(`parley serve exited (${code}) before listening:\n${err}`)));
  });
  return {
    child,
    baseURL,
    stderr: () => err,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}
