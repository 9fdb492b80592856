// What to say when a model cannot be loaded. Plain words and the next step, never a stack
// trace; on a first run without a model, how to get going anyway.
import { EngineError } from '../engine/engineClient.js';
import { errorLine } from '../errors.js';

const NO_MODEL_HINTS = [
  'To chat, point Parley at a local GPT-2 model folder: /model ./path (or start it with parley --model ./path).',
  'To try the interface without a download: /model demo (or parley --model demo), a 3M-parameter model shipped with Parley, trained on the King James Bible.',
];

/** The notice lines for a failed load; `current` is the model still in use, if any. */
export function loadFailureLines(ref: string, error: unknown, current: string | null, offline: boolean): string[] {
  const uncached = error instanceof EngineError && error.code === 'network';
  const first = !uncached
    ? `Cannot load ${ref}: ${errorLine(error)}`
    : offline
      ? `Cannot load ${ref}: it is not in the model cache, and --offline forbids downloading it.`
      : // The hub may be a mirror (HF_ENDPOINT): its own words say which address failed and how.
        `Cannot load ${ref}: ${errorLine(error)} (the model is not in the cache).`;
  if (current !== null) return [first, `Still using ${current}.`];
  return [first, ...NO_MODEL_HINTS];
}
