import { parseStrict } from './strictArgs.js';

export const HELP = `Usage: parley [options]            chat in the terminal
       parley -p "text" [options]   one reply to stdout (or pipe text on stdin)
       parley pull MODEL [--dtype T]   download a model into the cache and check it loads
       parley models                   cached models: dtypes, size, last use
       parley rm MODEL [--dtype T] [--yes]   remove a model (or one dtype) from the cache
       parley serve [options]       an OpenAI-compatible server (parley serve --help)

Model:
  -m, --model <ref>         an alias, a hub id (owner/name) or a model folder; aliases:
                            demo (a small model trained here; offline), gpt2, distilgpt2,
                            smollm2, smollm2-360m, qwen2.5, llama3.2
      --endpoint <url>      use an OpenAI-compatible server (…/v1) as the engine; --model
                            names its model (then /model endpoint:NAME switches there)
      --api-key <key>       key for --endpoint (default: $PARLEY_API_KEY, $OPENAI_API_KEY)
      --context <n>         the server's context length, when it does not report one
      --dtype <type>        fp32 | fp16 | q8 | int8 | uint8 | q4 | q4f16
      --offline             never contact the Hugging Face hub
                            (HF_ENDPOINT or the hubEndpoint setting: use a mirror instead)
      --no-convert          run a GPT-2 export as it is, not on Parley's graph built from it

Sampling:
      --max-tokens <n>      most new tokens per reply
  -t, --temperature <x>     0 (greedy) to 2
      --top-k <n>           0 disables
      --top-p <x>           0 to 1
      --repeat-penalty <x>  1 disables
      --seed <n>            reproducible sampling

Sessions:
  -s, --session <name>      continue or create this saved session
      --resume              continue the most recent session
      --sessions-dir <dir>  where sessions are saved
      --list-sessions       list saved sessions and exit
      --export <name>       write a session as Markdown (to --out or stdout) and exit
  -o, --out <file>          file for --export
      --raw                 print model and session text exactly, control characters included
                            (otherwise: removed, and escape sequences too on a terminal)
      --system <text>       persona for this session (or a preset: translate, qa, summarise)

  -p, --prompt <text>       one-shot: print one reply and exit
  -v, --version             print the version
  -h, --help                print this help
`;

export interface CliArgs {
  model?: string;
  dtype?: string;
  /** An OpenAI-compatible server's base URL: the engine is then that server. */
  endpoint?: string;
  apiKey?: string;
  /** Raw --context: the endpoint's context length when the server does not report it. */
  context?: string;
  offline: boolean;
  /** --no-convert: run GPT-2 exports as they are. */
  noConvert?: boolean;
  /** Raw sampling flags, validated by the settings schema (one message per bad value). */
  sampling: Partial<Record<'maxNewTokens' | 'temperature' | 'topK' | 'topP' | 'repetitionPenalty' | 'seed', string>>;
  session?: string;
  resume: boolean;
  sessionsDir?: string;
  listSessions: boolean;
  export?: string;
  out?: string;
  system?: string;
  prompt?: string;
  /** Model and session text goes out exactly, control characters included. */
  raw: boolean;
  version: boolean;
  help: boolean;
}

/** Parses argv (without node and script). Throws an Error with a one-line message. */
export function parseCliArgs(argv: string[]): CliArgs {
  const { values, positionals } = parseStrict(argv, {
    model: { type: 'string', short: 'm' },
    dtype: { type: 'string' },
    endpoint: { type: 'string' },
    'api-key': { type: 'string' },
    context: { type: 'string' },
    offline: { type: 'boolean', default: false },
    'no-convert': { type: 'boolean' },
    'max-tokens': { type: 'string' },
    temperature: { type: 'string', short: 't' },
    'top-k': { type: 'string' },
    'top-p': { type: 'string' },
    'repeat-penalty': { type: 'string' },
    seed: { type: 'string' },
    session: { type: 'string', short: 's' },
    resume: { type: 'boolean', default: false },
    'sessions-dir': { type: 'string' },
    'list-sessions': { type: 'boolean', default: false },
    export: { type: 'string' },
    out: { type: 'string', short: 'o' },
    system: { type: 'string' },
    prompt: { type: 'string', short: 'p' },
    raw: { type: 'boolean', default: false },
    version: { type: 'boolean', short: 'v', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  });
  if (positionals.length > 0) {
    throw new Error(`unexpected argument "${positionals[0]}" (did you mean -p "${positionals.join(' ')}"?)`);
  }
  const sampling: CliArgs['sampling'] = {};
  if (values['max-tokens'] !== undefined) sampling.maxNewTokens = values['max-tokens'];
  if (values.temperature !== undefined) sampling.temperature = values.temperature;
  if (values['top-k'] !== undefined) sampling.topK = values['top-k'];
  if (values['top-p'] !== undefined) sampling.topP = values['top-p'];
  if (values['repeat-penalty'] !== undefined) sampling.repetitionPenalty = values['repeat-penalty'];
  if (values.seed !== undefined) sampling.seed = values.seed;
  const opt = <T>(key: string, v: T | undefined): Record<string, T> => (v === undefined ? {} : { [key]: v });
  return {
    ...opt('model', values.model),
    ...opt('dtype', values.dtype),
    ...opt('endpoint', values.endpoint),
    ...opt('apiKey', values['api-key']),
    ...opt('context', values.context),
    offline: values.offline,
    ...opt('noConvert', values['no-convert']),
    sampling,
    ...opt('session', values.session),
    resume: values.resume,
    ...opt('sessionsDir', values['sessions-dir']),
    listSessions: values['list-sessions'],
    ...opt('export', values.export),
    ...opt('out', values.out),
    ...opt('system', values.system),
    ...opt('prompt', values.prompt),
    raw: values.raw,
    version: values.version,
    help: values.help,
  };
}
