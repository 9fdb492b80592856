// `parley pull`, `parley models` and `parley rm`: the model cache from the command line,
// as `ollama pull/list/rm` do it.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { DEMO_MODEL_DIR } from '../engine/load/demoModel.js';
import { createInterface } from 'node:readline';
import { ALIAS_DTYPES, resolveModelRef, unknownModelMessage } from '../engine/load/modelRefs.js';
import { DTYPES, type Dtype } from '../engine/protocol.js';
import { cachedModelDir, listCachedModels, removalPlan, removeCachedModel } from '../hub/cachedModels.js';
import { currentHubEndpoint } from '../hub/currentHubEndpoint.js';
import type { FileProgress } from '../hub/downloadFile.js';
import { ensureHubModelOrSource } from '../engine/load/hubConversionSource.js';
import { HubError } from '../hub/hubError.js';
import { formatModelTable } from './modelTable.js';
import { downloadLine, formatBytes } from '../text/format.js';
import { sanitizeForTerminal } from '../text/terminalText.js';
import { modelCacheDir } from '../paths.js';
import { errorLine, errorMessage } from '../errors.js';
import { parseStrict } from './strictArgs.js';

export const MODEL_COMMANDS = ['pull', 'models', 'rm'] as const;
export type ModelCommand = (typeof MODEL_COMMANDS)[number];

interface Io {
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

class UsageError extends Error {}

const fail = (io: Io, message: string, code = 1): number => {
  io.stderr.write(`parley: ${sanitizeForTerminal(message)}\n`);
  return code;
};

function parse(command: ModelCommand, argv: string[]): { model?: string; dtype?: Dtype; yes: boolean } {
  const { values, positionals } = parseStrict(argv, {
    dtype: { type: 'string' },
    yes: { type: 'boolean', short: 'y', default: false },
  });
  const wanted = command === 'models' ? 0 : 1;
  if (positionals.length !== wanted) {
    throw new UsageError(
      command === 'models'
        ? `parley models takes no arguments`
        : `usage: parley ${command} MODEL [--dtype T]${command === 'rm' ? ' [--yes]' : ''}`,
    );
  }
  if (command !== 'rm' && values.yes) throw new UsageError(`--yes is only for parley rm`);
  if (command === 'models' && values.dtype !== undefined) throw new UsageError(`parley models takes no --dtype`);
  let dtype: Dtype | undefined;
  if (values.dtype !== undefined) {
    if (!(DTYPES as readonly string[]).includes(values.dtype))
      throw new UsageError(`--dtype must be one of ${DTYPES.join(', ')} (got "${values.dtype}")`);
    dtype = values.dtype as Dtype;
  }
  return { ...(positionals[0] === undefined ? {} : { model: positionals[0] }), ...(dtype ? { dtype } : {}), yes: values.yes };
}

/** The cache id (`owner/name` or `demo`) a ref names, or why it names nothing in the cache. */
function cacheIdOf(ref: string): { id: string } | { error: string } {
  const source = resolveModelRef(ref, process.cwd(), homedir());
  if (source.kind === 'demo') return { id: 'demo' };
  if (source.kind === 'hub') return { id: source.id };
  return {
    error:
      unknownModelMessage(ref, existsSync(source.path)) ??
      `${ref} is a folder, not a hub model: nothing to download or remove in the model cache`,
  };
}

export async function runModelCommand(command: ModelCommand, argv: string[], io: Io): Promise<number> {
  let args;
  try {
    args = parse(command, argv);
  } catch (err) {
    io.stderr.write(`parley: ${errorMessage(err)}\nTry 'parley --help'.\n`);
    return 2;
  }
  const cacheDir = modelCacheDir();
  if (command === 'models') {
    io.stdout.write(formatModelTable(await listCachedModels(cacheDir), cacheDir, new Date()));
    return 0;
  }
  const target = cacheIdOf(args.model!);
  if ('error' in target) return fail(io, target.error);
  // Without --dtype, pull what the chat will load: an alias's own dtype (qwen2.5: q8), else fp32.
  if (command === 'pull') return pull(target.id, args.model!, args.dtype ?? ALIAS_DTYPES[args.model!.trim()] ?? 'fp32', cacheDir, io);
  return remove(target.id, args.dtype, args.yes, cacheDir, io);
}

async function pull(id: string, ref: string, dtype: Dtype, cacheDir: string, io: Io): Promise<number> {
  const controller = new AbortController();
  const onSigint = (): void => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
  };
  process.on('SIGINT', onSigint);
  const tty = io.stderr.isTTY === true;
  const columns = (): number => io.stderr.columns ?? 80;
  const onProgress = (p: FileProgress): void => {
    const done = p.total > 0 && p.loaded >= p.total;
    if (tty)
      io.stderr.write(
        `\r\x1b[2K${downloadLine(p.file, p.loaded, p.total, columns(), done ? undefined : p.bytesPerSecond)}${done ? '\n' : ''}`,
      );
    else if (done) io.stderr.write(`downloaded ${p.file} (${formatBytes(p.total)})\n`);
  };
  try {
    if (id === 'demo') {
      // Shipped with Parley: nothing to download; the check below loads it from its folder.
      if (dtype !== 'q8' && dtype !== 'fp32') return fail(io, 'the demo model ships in q8 only');
      dtype = 'q8';
    } else {
      // A dtype the repository lacks but Parley builds (q8 for SmolLM2): its source file, then the check below builds it.
      await ensureHubModelOrSource({
        noConvert: false,
        cacheDir,
        endpoint: currentHubEndpoint().url,
        repoId: id,
        dtype,
        offline: false,
        ref,
        onProgress,
        onWait: () => io.stderr.write(`waiting for another Parley process downloading ${id}…\n`),
        signal: controller.signal,
      });
    }
    if (tty) io.stderr.write('\r\x1b[2K');
    io.stderr.write(`checking that ${id} loads…\n`);
    const { createEngine } = await import('../engine/worker/workerEngineClient.js');
    const engine = createEngine({ cacheDir, prefixCache: false });
    try {
      const info = await engine.load(ref, { dtype, offline: true });
      const where =
        id === 'demo'
          ? `shipped with Parley in ${DEMO_MODEL_DIR}`
          : `${formatBytes((await removalPlan(cacheDir, id)).bytes)} in ${cachedModelDir(cacheDir, id)}`;
      io.stdout.write(`${id} (${info.dtype}) is ready: ${info.contextLength} tokens of context, ${where}\n`);
      return 0;
    } finally {
      await engine.dispose();
    }
  } catch (err) {
    if (tty) io.stderr.write('\r\x1b[2K');
    if (err instanceof HubError && err.code === 'cancelled') {
      return fail(io, `download of ${id} stopped; run parley pull ${ref} again to finish it`, 130);
    }
    const message = errorLine(err);
    return fail(io, message);
  } finally {
    process.off('SIGINT', onSigint);
  }
}

async function remove(id: string, dtype: Dtype | undefined, yes: boolean, cacheDir: string, io: Io): Promise<number> {
  const plan = await removalPlan(cacheDir, id, dtype);
  const what = dtype ? `${id} ${dtype}` : id;
  if (plan.paths.length === 0) return fail(io, `${what} is not in the model cache (${cacheDir})`);
  if (!yes) {
    const answer = await ask(io, `Remove ${what} from the model cache (${formatBytes(plan.bytes)})? [y/N] `);
    if (!/^y(es)?$/i.test(answer.trim())) {
      io.stderr.write('nothing removed\n');
      return 1;
    }
  }
  const freed = await removeCachedModel(cacheDir, id, dtype);
  io.stdout.write(`removed ${what}: ${formatBytes(freed)} freed\n`);
  return 0;
}

/** One line from stdin (empty at end of input). */
function ask(io: Io, question: string): Promise<string> {
  return new Promise((resolve) => {
    const rl = createInterface({ input: io.stdin, output: io.stderr, terminal: io.stdin.isTTY === true });
    let answered = false;
    rl.question(question, (answer) => {
      answered = true;
      rl.close();
      resolve(answer);
    });
    rl.once('close', () => {
      if (!answered) {
        io.stderr.write('\n');
        resolve('');
      }
    });
  });
}
