// GPT-2 small in `npm run bench:peers`: the generated model, its GGUF, and the peaked model of
// the greedy check.
import { type PeakedScales, generatedParams } from '../../src/graph/makeModelFolder.js';
import { cachedModelDir, gpt2SmallDir } from '../../test/helpers/fixtures.js';
import type { GgufType } from '../gguf/ggufFile.js';
import { writeGpt2Gguf } from '../gguf/gpt2Gguf.js';
import type { LlamaCpp } from '../llamaCppPeer.js';
import { type GreedyCheck, greedyCheck } from './greedyCheck.js';
import { cachedGguf } from './peerGguf.js';

const GSMALL = { layers: 12, heads: 12, embd: 768, positions: 1024, seed: 1 };
// Sharp enough that no greedy choice flips on rounding, with blocks strong enough that the text
// varies (a tied head on a merely peaked embedding repeats the prompt's last token forever).
const PEAKED = { layers: 4, heads: 4, embd: 256, positions: 1024, seed: 7, peaked: { embedding: 5, mlpOutput: 40 } };
const PEAKED_NAME = `gpt2-peaked-e${PEAKED.peaked.embedding}-m${PEAKED.peaked.mlpOutput}`;

function gpt2Gguf(
  name: string,
  options: typeof GSMALL & { peaked?: PeakedScales },
  type: GgufType,
  tokenizerFolder: string,
): Promise<string> {
  return cachedGguf(name, type, async (file) => {
    const { dims, param } = generatedParams(options);
    await writeGpt2Gguf(file, dims, param, type, tokenizerFolder);
  });
}

/** The generated GPT-2 small (fp32, q8, q4) and its GGUF in `type`. */
export async function gpt2SmallPeer(): Promise<{ folder: string; gguf: (type: GgufType) => Promise<string> }> {
  const folder = await gpt2SmallDir(true);
  return { folder, gguf: (type) => gpt2Gguf('gpt2-small-random', GSMALL, type, folder) };
}

export async function gpt2GreedyCheck(peer: LlamaCpp): Promise<GreedyCheck> {
  const folder = await cachedModelDir(PEAKED_NAME, { ...PEAKED, q8: false });
  return greedyCheck(peer, folder, await gpt2Gguf(PEAKED_NAME, PEAKED, 'F32', folder));
}
