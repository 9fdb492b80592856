// Peak resident memory of a process that loads one dtype of the model
// in the real worker engine and generates with it. Each dtype gets a fresh child process,
// since peak RSS only ever grows. The child reports VmHWM from /proc/self/status, not
// process.resourceUsage().maxRSS: Linux carries maxRSS over from the forking parent across
// exec, so a child of the big benchmark process would report the parent's peak.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { onnxFileFor } from '../src/engine/load/modelLoader.js';
import { externalDataFile } from '../src/graph/externalData.js';
import { DTYPES, type Dtype } from '../src/engine/protocol.js';
import { createEngine } from '../src/engine/worker/workerEngineClient.js';
import { GREEDY_FULL_LENGTH, helloPrompt, PROMPT_LENGTHS } from './benchParams.js';

export interface PeakRss {
  dtype: Dtype;
  peakRssMB: number;
  /** Size of the ONNX file: the weights the process must hold. */
  weightMB: number;
}

const MB = 1024 * 1024;

/** In the child: load, generate at the longest benchmark context, print the peak RSS in bytes. */
async function child(modelDir: string, dtype: Dtype): Promise<void> {
  const cacheDir = await mkdtemp(path.join(os.tmpdir(), 'parley-bench-rss-'));
  const engine = createEngine({ cacheDir });
  try {
    await engine.load(modelDir, { dtype, offline: true });
    for await (const e of engine.generate(helloPrompt(PROMPT_LENGTHS[PROMPT_LENGTHS.length - 1]!), GREEDY_FULL_LENGTH)) {
      if (e.type === 'done' && e.reason !== 'length') throw new Error(`generation ended early: ${e.reason} ${e.error ?? ''}`);
    }
  } finally {
    await engine.dispose();
    await rm(cacheDir, { recursive: true, force: true });
  }
  const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(await readFile('/proc/self/status', 'utf8'));
  if (!hwm) throw new Error('no VmHWM in /proc/self/status');
  console.log(Number(hwm[1]) * 1024);
}

export async function peakRss(modelDir: string, dtype: Dtype): Promise<PeakRss> {
  const { stdout } = await promisify(execFile)(process.execPath, [fileURLToPath(import.meta.url), modelDir, dtype]);
  const bytes = Number(stdout.trim().split('\n').pop());
  if (!Number.isFinite(bytes) || bytes <= 0) throw new Error(`the peak-RSS child printed ${JSON.stringify(stdout)}`);
  // The graph and, for Parley's own files, its external data beside it.
  const graph = path.join(modelDir, onnxFileFor(dtype));
  const weights = (await stat(graph)).size + ((await stat(externalDataFile(graph)).catch(() => null))?.size ?? 0);
  return { dtype, peakRssMB: Math.round(bytes / MB), weightMB: Math.round(weights / MB) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [modelDir, dtype] = process.argv.slice(2);
  if (!modelDir || !DTYPES.includes(dtype as Dtype)) throw new Error('usage: peakRss.js <model folder> <dtype>');
  await child(modelDir, dtype as Dtype);
}
