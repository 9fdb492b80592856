// Greedy tokens from a model folder through the real loader (converted graph or the export
// as it is), stepping the decoder by hand: the conversion tests compare the two this way.
import { loadModel } from '../../src/engine/load/modelLoader.js';
import type { Dtype } from '../../src/engine/protocol.js';

export async function greedyThroughLoader(
  folder: string,
  options: { dtype: Dtype; noConvert: boolean; cacheDir: string },
  prompt: readonly number[],
  steps: number,
) {
  const model = await loadModel({ kind: 'folder', path: folder }, { ...options, offline: true }, () => {});
  try {
    let cache = model.decoder.emptyCache();
    const ids: number[] = [];
    let next = [...prompt];
    for (let i = 0; i < steps; i++) {
      const step = await model.decoder.forward(next, cache);
      cache = step.cache;
      let best = 0;
      for (let j = 1; j < step.logits.length; j++) if (step.logits[j]! > step.logits[best]!) best = j;
      ids.push(best);
      next = [best];
    }
    return { ids, kind: model.decoder.cacheKind, info: model.info };
  } finally {
    await model.release();
  }
}
