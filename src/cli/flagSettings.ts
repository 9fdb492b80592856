import { DTYPES, type Dtype } from '../engine/protocol.js';
import { validateSetting, type Settings } from '../settings/settingsSchema.js';
import type { CliArgs } from './args.js';
import { endpointRef, isEndpointRef, parseEndpointRef } from '../engine/remote/endpointRef.js';
import { errorMessage } from '../errors.js';

/** The settings layer the command line contributes, or the one-line errors of its bad values. */
export function flagSettings(args: CliArgs): { values: Partial<Settings>; errors: string[] } {
  const values: Record<string, unknown> = {};
  const errors: string[] = [];
  const FLAG_NAMES: Record<keyof CliArgs['sampling'], string> = {
    maxNewTokens: '--max-tokens',
    temperature: '--temperature',
    topK: '--top-k',
    topP: '--top-p',
    repetitionPenalty: '--repeat-penalty',
    seed: '--seed',
  };
  for (const [key, raw] of Object.entries(args.sampling) as [keyof CliArgs['sampling'], string][]) {
    const result = validateSetting(key, raw);
    if (result.ok) values[result.key] = result.value;
    else errors.push(`${FLAG_NAMES[key]}: ${result.error}`);
  }
  if (args.endpoint !== undefined) {
    // The model is the server's: recorded with its URL, so a session finds it again.
    const name = args.model === undefined ? undefined : isEndpointRef(args.model) ? parseEndpointRef(args.model).name : args.model;
    if (name === undefined || name === '') errors.push('--endpoint needs --model NAME: the name the server knows the model by');
    else {
      try {
        values['model'] = endpointRef(name, args.endpoint);
      } catch (error) {
        errors.push(`--endpoint: ${errorMessage(error)}`);
      }
    }
  } else if (args.model !== undefined) values['model'] = args.model;
  if (args.context !== undefined && !/^[1-9]\d{0,7}$/.test(args.context.trim())) {
    errors.push(`--context must be a whole number of tokens (got "${args.context}")`);
  }
  if (args.noConvert === true) values['convert'] = false;
  if (args.dtype !== undefined) {
    if ((DTYPES as readonly string[]).includes(args.dtype)) values['dtype'] = args.dtype as Dtype;
    else errors.push(`--dtype must be one of ${DTYPES.join(', ')} (got "${args.dtype}")`);
  }
  return { values: values as Partial<Settings>, errors };
}
