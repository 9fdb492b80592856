// npm run make-model -- --out DIR [--layers N --heads H --embd E --positions P --seed S --q8 --q4 --present-only]
// Writes a GPT-2 model folder with seeded random weights (defaults: GPT-2 small's shape).

import path from 'node:path';
import { parseArgs } from 'node:util';
import { makeModelFolder, validateModelOptions } from '../src/graph/makeModelFolder.js';
import { errorMessage } from '../src/errors.js';

const USAGE =
  'Usage: npm run make-model -- --out DIR [--layers 12] [--heads 12] [--embd 768] [--positions 1024] [--seed 1] [--q8] [--q4] [--present-only]';

function integerOption(name: string, raw: string): number {
  if (!/^\d+$/.test(raw)) throw new Error(`--${name} must be a whole number, got "${raw}"`);
  return Number(raw);
}

function parseOptions(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      out: { type: 'string' },
      layers: { type: 'string', default: '12' },
      heads: { type: 'string', default: '12' },
      embd: { type: 'string', default: '768' },
      positions: { type: 'string', default: '1024' },
      seed: { type: 'string', default: '1' },
      q8: { type: 'boolean', default: false },
      q4: { type: 'boolean', default: false },
      // Only the outputs a hub export has (no new_key_values.*): the decoder's present path.
      'present-only': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  if (!values.out) throw new Error('--out DIR is required');
  const options = {
    out: path.resolve(values.out),
    layers: integerOption('layers', values.layers),
    heads: integerOption('heads', values.heads),
    embd: integerOption('embd', values.embd),
    positions: integerOption('positions', values.positions),
    seed: integerOption('seed', values.seed),
    q8: values.q8,
    q4: values.q4,
    newKeyValues: !values['present-only'],
  };
  validateModelOptions(options);
  return options;
}

async function main(): Promise<void> {
  let options: ReturnType<typeof parseOptions>;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    const message = errorMessage(error);
    console.error(`make-model: ${message.replace(/\s*\n\s*/g, ' ')} (--help for usage)`);
    process.exitCode = 2;
    return;
  }
  if (options === 'help') {
    console.log(USAGE);
    return;
  }
  const started = performance.now();
  try {
    await makeModelFolder(options);
  } catch (error) {
    console.error(`make-model: ${errorMessage(error)}`);
    process.exitCode = 1;
    return;
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const { layers, heads, embd, positions, seed } = options;
  console.log(
    `Wrote ${options.out} (${layers} layers, ${heads} heads, ${embd} dims, ${positions} positions, seed ${seed}${options.q8 ? ', with q8' : ''}${options.q4 ? ', with q4' : ''}) in ${seconds} s`,
  );
}

await main();
