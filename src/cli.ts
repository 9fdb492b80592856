#!/usr/bin/env -S node --single-threaded-gc
// --single-threaded-gc must be on node's command line (V8 refuses it later and in a Worker's
// execArgv); at long context it cuts GC time per token about 3x on two cores.
// parley: argument handling and dispatch. Kept light on purpose: --version and --help never
// load the UI, transformers.js or onnxruntime (those load lazily, the model code only in
// the engine worker).
import { readFileSync } from 'node:fs';
import { HELP, parseCliArgs, type CliArgs } from './cli/args.js';
import { errorMessage } from './errors.js';
import { engineEnvError } from './engine/engineEnv.js';
import { cleanText, outputModeFor } from './text/terminalText.js';

// A file size limit (ulimit -f) kills the process with SIGXFSZ on the write that crosses it.
// Handled, the write fails with EFBIG instead, so a download or a save can say so and clean up.
process.on('SIGXFSZ', () => undefined);

/** Says what is wrong with the engine's environment variables, if anything. */
function badEnvironment(): boolean {
  const error = engineEnvError(process.env);
  if (error) process.stderr.write(`parley: ${cleanText(error, outputModeFor(process.stderr, false))}\n`);
  return error !== null;
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'serve') {
    if (badEnvironment()) return 2;
    const { runServe } = await import('./cli/serveCommand.js');
    return runServe(argv.slice(1));
  }
  if (argv[0] === 'pull' || argv[0] === 'models' || argv[0] === 'rm') {
    const { runModelCommand } = await import('./cli/modelCommands.js');
    return runModelCommand(argv[0], argv.slice(1), process);
  }
  let args: CliArgs;
  try {
    args = parseCliArgs(argv);
  } catch (err) {
    process.stderr.write(`parley: ${errorMessage(err)}\nTry 'parley --help'.\n`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(HELP);
    return 0;
  }
  if (args.version) {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    process.stdout.write(`parley ${pkg.version}\n`);
    return 0;
  }
  if (badEnvironment()) return 2;
  const { runCommand } = await import('./cli/runCommand.js');
  return runCommand(args);
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`parley: ${errorMessage(err)}\n`);
    process.exitCode = 1;
  },
);
