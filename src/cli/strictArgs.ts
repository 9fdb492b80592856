// node:util's parseArgs in strict mode, with its errors said the way the rest of Parley says
// them: `unknown option --modle (did you mean --model?)` instead of Node's advice on `--`.
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { closestName } from '../text/closestName.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/** The one-line message for a parseArgs error, or null for errors of another kind. */
export function optionError(err: unknown, options: Options): string | null {
  const code = (err as { code?: unknown }).code;
  const message = err instanceof Error ? err.message : '';
  if (code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
    const given = /Unknown option '([^']+)'/.exec(message)?.[1] ?? '';
    const names = Object.keys(options);
    const bare = given.replace(/^-+/, '').split('=')[0]!;
    const near = given.startsWith('--') ? closestName(bare, names) : null;
    return `unknown option ${given}${near ? ` (did you mean --${near}?)` : ''}`;
  }
  if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
    const name = /--([\w-]+)/.exec(message)?.[1];
    if (name && options[name]?.type === 'string') return `option --${name} needs a value`;
    if (name) return `option --${name} takes no value`;
  }
  return null;
}

/** parseArgs with `strict: true`; throws an Error with a one-line message for a bad option. */
export function parseStrict<T extends Options>(args: string[], options: T) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    const friendly = optionError(err, options);
    throw friendly === null ? err : new Error(friendly);
  }
}
