// Start-up. `parley --version` is timed as a spawned process, start to
// exit, next to a node process that does nothing. Time to an interactive UI is measured in a real terminal: the CLI starts in a tmux
// window (a server of our own, -L) and the screen is polled every 10 ms until the input
// box's placeholder is on it; the model keeps loading in the engine worker meanwhile, so
// the time until its "ready" line is reported alongside.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../test/helpers/fixtures.js';
import { median } from './benchStats.js';

const CLI = path.join(REPO_ROOT, 'dist', 'src', 'cli.js');
const VERSION_RUNS = 10;
const UI_RUNS = 3;
const INPUT_BOX = /Message, or \/help for commands/;
const MODEL_READY = /Model .* ready \(/;

function timeSpawn(args: readonly string[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, args, { stdio: 'ignore' });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve(performance.now() - t0) : reject(new Error(`${args.join(' ')} exited with ${code}`))));
  });
}

/** Median ms of a node process run with `args`, after one unmeasured run that warms the file cache. */
async function medianSpawnMs(args: readonly string[]): Promise<number> {
  await timeSpawn(args);
  const times = [];
  for (let i = 0; i < VERSION_RUNS; i++) times.push(await timeSpawn(args));
  return median(times);
}

/** `parley --version`, and node doing nothing: what is left for Parley to shave is the difference. */
export async function versionTimes(): Promise<{ versionMs: number; nodeBootMs: number }> {
  return { versionMs: await medianSpawnMs([CLI, '--version']), nodeBootMs: await medianSpawnMs(['-e', '0']) };
}

const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export interface UiStartup {
  /** Median ms from starting the CLI to the input box on screen. */
  interactiveMs: number;
  /** Median ms from starting the CLI to the model's "ready" line. */
  modelReadyMs: number;
}

/** Start-up of the chat UI on `modelDir` (offline), or null when tmux is not installed. */
export async function uiStartup(modelDir: string): Promise<UiStartup | null> {
  try {
    execFileSync('tmux', ['-V'], { stdio: 'ignore' });
  } catch {
    return null;
  }
  const socket = `parley-bench-${process.pid}`;
  // tmux's complaints are captured into the thrown error, not printed over the progress lines.
  const tmux = (...args: string[]): string =>
    execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const root = await mkdtemp(path.join(os.tmpdir(), 'parley-bench-startup-'));
  const env = ['SESSIONS', 'CONFIG', 'DATA', 'CACHE'].map((k) => `PARLEY_${k}_DIR=${shellQuote(path.join(root, k.toLowerCase()))}`);
  try {
    // The server and its first window start before any timing, so runs do not pay for them.
    tmux('new-session', '-d', '-s', 'bench', '-x', '100', '-y', '40', 'sleep 600');
    const interactive: number[] = [];
    const ready: number[] = [];
    for (let i = 0; i < UI_RUNS; i++) {
      const command = `env ${env.join(' ')} NO_COLOR=1 ${shellQuote(process.execPath)} ${shellQuote(CLI)} --model ${shellQuote(modelDir)} --offline`;
      const t0 = performance.now();
      tmux('new-window', '-t', 'bench', '-n', `run${i}`, command);
      let shownAt = 0;
      for (;;) {
        const screen = tmux('capture-pane', '-p', '-t', `bench:run${i}`);
        const now = performance.now() - t0;
        if (shownAt === 0 && INPUT_BOX.test(screen)) shownAt = now;
        if (MODEL_READY.test(screen)) {
          if (shownAt === 0) shownAt = now;
          ready.push(now);
          break;
        }
        if (now > 120_000) throw new Error(`the chat UI did not come up; screen:\n${screen}`);
        await sleep(10);
      }
      interactive.push(shownAt);
      // Ctrl+D saves and exits, which closes the window; kill it if it lingers.
      tmux('send-keys', '-t', `bench:run${i}`, 'C-d');
      await sleep(1000);
      try {
        tmux('kill-window', '-t', `bench:run${i}`);
      } catch {
        // Closed already.
      }
    }
    return { interactiveMs: median(interactive), modelReadyMs: median(ready) };
  } finally {
    try {
      tmux('kill-server');
    } catch {
      // Already gone.
    }
    await rm(root, { recursive: true, force: true });
  }
}
