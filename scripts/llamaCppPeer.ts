// llama.cpp as the peer of `npm run bench:peers`, built here for this CPU and cached in the
// git-ignored .cache/peers: its source comes from the npm package node-llama-cpp (pinned
// exactly; never a dependency of Parley), which carries its llama.cpp release as a git bundle.
// Built with Debian's cmake and g++: -DGGML_NATIVE=ON, no curl/OpenSSL, no server.
import { execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { log } from './benchStats.js';

export const NODE_LLAMA_CPP = 'node-llama-cpp@3.21.1';
const run = promisify(execFile);

export interface LlamaCpp {
  bench: string;
  simple: string;
  /** The llama.cpp commit the bundle holds. */
  commit: string;
}

async function sh(command: string, args: string[], cwd: string): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${command} ${args.join(' ')} exited with ${code}`))));
  });
}

async function ensureCmake(): Promise<void> {
  try {
    await run('cmake', ['--version']);
  } catch {
    log('cmake is missing: apt-get install -y cmake…');
    await sh('apt-get', ['install', '-y', '--no-install-recommends', 'cmake'], '/');
  }
}

/** The built llama-bench and llama-simple, fetching and building them on first use. */
export async function ensureLlamaCpp(cacheRoot: string): Promise<LlamaCpp> {
  const root = path.join(cacheRoot, 'peers');
  const source = path.join(root, 'llama.cpp');
  const bin = path.join(source, 'build', 'bin');
  const result = (commit: string): LlamaCpp => ({ bench: path.join(bin, 'llama-bench'), simple: path.join(bin, 'llama-simple'), commit });
  await mkdir(root, { recursive: true });
  if (!existsSync(path.join(source, '.git'))) {
    const tgz = path.join(root, `${NODE_LLAMA_CPP.replace('@', '-')}.tgz`);
    if (!existsSync(tgz)) {
      log(`npm pack ${NODE_LLAMA_CPP} (for its llama.cpp source bundle)…`);
      await sh('npm', ['pack', NODE_LLAMA_CPP, '--silent'], root);
    }
    await sh('tar', ['xzf', tgz, 'package/llama/gitRelease.bundle'], root);
    await rm(source, { recursive: true, force: true });
    await sh('git', ['clone', '--quiet', path.join(root, 'package', 'llama', 'gitRelease.bundle'), source], root);
  }
  const { stdout } = await run('git', ['rev-parse', 'HEAD'], { cwd: source });
  const built = result(stdout.trim());
  if (existsSync(built.bench) && existsSync(built.simple)) return built;
  await ensureCmake();
  log('building llama.cpp for this CPU (about 10+ minutes on 2 cores, once)…');
  await sh(
    'cmake',
    [
      '-S',
      '.',
      '-B',
      'build',
      '-DCMAKE_BUILD_TYPE=Release',
      '-DGGML_NATIVE=ON',
      '-DLLAMA_CURL=OFF',
      '-DLLAMA_OPENSSL=OFF',
      '-DLLAMA_BUILD_SERVER=OFF',
      '-DLLAMA_BUILD_TESTS=OFF',
      '-DLLAMA_BUILD_APP=OFF',
      '-DBUILD_SHARED_LIBS=OFF',
    ],
    source,
  );
  await sh('cmake', ['--build', 'build', '-j2', '--target', 'llama-bench', 'llama-simple'], source);
  return built;
}

export interface LlamaBenchResult {
  /** Tokens per second llama-bench reports (mean over its repetitions). */
  tokPerS: number;
  peakRssMB: number;
}

/** `/usr/bin/time -f %M` around a command: its output and the peak RSS in MB. */
export async function timed(command: string, args: string[]): Promise<{ stdout: string; peakRssMB: number }> {
  const { stdout, stderr } = await run('/usr/bin/time', ['-f', 'PEAK_RSS_KB %M', command, ...args], { maxBuffer: 1 << 26 });
  const match = /PEAK_RSS_KB (\d+)/.exec(stderr);
  if (!match) throw new Error(`no peak RSS from /usr/bin/time: ${stderr.slice(-300)}`);
  return { stdout, peakRssMB: Math.round(Number(match[1]) / 1024) };
}

/**
 * One llama-bench test in a fresh process, 2 threads: prompt processing of `prompt` tokens
 * (`-p N -n 0`), or generation of `generate` tokens after `depth` tokens of context (`-n G -d D`).
 */
export async function llamaBench(
  peer: LlamaCpp,
  model: string,
  test: { prompt: number } | { generate: number; depth: number },
  repetitions = 2,
  poll?: number,
): Promise<LlamaBenchResult> {
  const args = ['-m', model, '-t', '2', '-r', String(repetitions), '-o', 'jsonl'];
  // --poll: how hard llama.cpp's threads busy-wait for work (its default 50); 0 sleeps instead.
  if (poll !== undefined) args.push('--poll', String(poll));
  if ('prompt' in test) args.push('-p', String(test.prompt), '-n', '0');
  else args.push('-p', '0', '-n', String(test.generate), '-d', String(test.depth));
  const { stdout, peakRssMB } = await timed(peer.bench, args);
  const line = stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .pop();
  if (!line) throw new Error(`llama-bench printed no result: ${stdout.slice(-300)}`);
  const parsed = JSON.parse(line) as { avg_ts: number };
  return { tokPerS: parsed.avg_ts, peakRssMB };
}

/** llama-simple's greedy continuation of `prompt` (its text only). */
export async function llamaSimple(peer: LlamaCpp, model: string, prompt: string, tokens: number): Promise<string> {
  const { stdout } = await run(peer.simple, ['-m', model, '-n', String(tokens), prompt], { maxBuffer: 1 << 24 });
  return stdout;
}
