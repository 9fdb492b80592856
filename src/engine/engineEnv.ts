// The environment variables that change how the engine runs, checked before anything starts:
// a mistyped value is the user's, said in one line, not a model that "could not load".
import { spinningFromEnv } from './threads/threading.js';
import { errorMessage } from '../errors.js';

/** What is wrong with the engine's environment variables, or null. */
export function engineEnvError(env: Readonly<Record<string, string | undefined>>): string | null {
  try {
    spinningFromEnv(env['PARLEY_SPIN']);
  } catch (err) {
    return errorMessage(err);
  }
  const prefill = env['PARLEY_Q4_PREFILL'];
  if (prefill !== undefined && prefill !== '' && prefill !== 'q8') return `PARLEY_Q4_PREFILL must be q8 or unset, not "${prefill}"`;
  return null;
}
