import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { makeModelFolder } from './modelGen/makeModelFolder.js';

/** A small GPT-2 with random weights: enough to try the interface anywhere, offline. */
const DEMO_SHAPE = { layers: 4, heads: 4, embd: 256, positions: 1024, seed: 1, q8: true };
const COMPLETE_MARKER = 'onnx/model_quantized.onnx';

/** Generates the demo model folder once; later runs reuse it. */
export async function ensureDemoModel(folder: string): Promise<string> {
  if (existsSync(path.join(folder, COMPLETE_MARKER))) return folder;
  await mkdir(path.dirname(folder), { recursive: true });
  // Generate beside the target and rename, so an interrupted run never leaves a folder
  // that looks complete.
  const temp = `${folder}.tmp-${process.pid}`;
  await rm(temp, { recursive: true, force: true });
  await makeModelFolder({ out: temp, ...DEMO_SHAPE });
  await rm(folder, { recursive: true, force: true });
  await rename(temp, folder);
  return folder;
}
