import { ensureModelFolder } from '../../graph/ensureModelFolder.js';

/** A small GPT-2 with random weights: enough to try the interface anywhere, offline. */
const DEMO_SHAPE = { layers: 4, heads: 4, embd: 256, positions: 1024, seed: 1, q8: true, q4: true };

/** Generates the demo model folder once; later runs reuse it. */
export function ensureDemoModel(folder: string): Promise<string> {
  return ensureModelFolder(folder, DEMO_SHAPE);
}
