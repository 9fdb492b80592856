// npm run make-model -- --out DIR [--arch gpt2|llama|qwen2] [shape options] [--seed S --q8 --q4]
// Writes a model folder with seeded random weights: GPT-2 (defaults: GPT-2 small's shape) or a
// Llama-family model on Parley's graph (defaults: --shape smollm2-135m for llama, qwen2.5-0.5b for qwen2).

import path from 'node:path';
import { parseArgs } from 'node:util';
import { makeModelFolder, validateModelOptions } from '../src/graph/makeModelFolder.js';
import { LLAMA_SHAPES, type LlamaShapeName, makeLlamaModelFolder, validateLlamaOptions } from '../src/graph/makeLlamaFolder.js';
import { ATTENTION_KINDS, type AttentionKind } from '../src/graph/llamaAttention.js';
import type { LlamaDims } from '../src/graph/llamaWeights.js';
import { errorMessage } from '../src/errors.js';

const USAGE = [
  'Usage: npm run make-model -- --out DIR [--seed 1] [--q8] [--q4] [--peaked]',
  '  GPT-2 (default): [--layers 12] [--heads 12] [--embd 768] [--positions 1024] [--present-only]',
  '  --arch llama|qwen2 [--shape smollm2-135m|qwen2.5-0.5b] [--layers N] [--heads H] [--kv-heads K] [--head-dim D]',
  '      [--hidden E] [--inner I] [--vocab V] [--positions P] [--rope-theta T] [--tied|--untied] [--attention groupedMha|twoPart|concat|gqa|mha]',
].join('\n');

/** Token embedding and MLP output scales of `--peaked` (as bench:peers' GPT-2 uses). */
const PEAKED = { embedding: 5, mlpOutput: 40 };
const SHAPES = Object.keys(LLAMA_SHAPES) as LlamaShapeName[];

function integerOption(name: string, raw: string): number {
  if (!/^\d+$/.test(raw)) throw new Error(`--${name} must be a whole number, got "${raw}"`);
  return Number(raw);
}

function numberOption(name: string, raw: string): number {
  const value = Number(raw);
  if (raw.trim() === '' || !Number.isFinite(value)) throw new Error(`--${name} must be a number, got "${raw}"`);
  return value;
}

const LLAMA_ONLY = ['shape', 'kv-heads', 'head-dim', 'hidden', 'inner', 'vocab', 'rope-theta', 'tied', 'untied', 'attention'] as const;

function parseOptions(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      out: { type: 'string' },
      arch: { type: 'string', default: 'gpt2' },
      shape: { type: 'string' },
      layers: { type: 'string' },
      heads: { type: 'string' },
      'kv-heads': { type: 'string' },
      'head-dim': { type: 'string' },
      embd: { type: 'string' },
      hidden: { type: 'string' },
      inner: { type: 'string' },
      vocab: { type: 'string' },
      positions: { type: 'string' },
      'rope-theta': { type: 'string' },
      tied: { type: 'boolean' },
      untied: { type: 'boolean' },
      attention: { type: 'string' },
      seed: { type: 'string', default: '1' },
      q8: { type: 'boolean', default: false },
      q4: { type: 'boolean', default: false },
      peaked: { type: 'boolean', default: false },
      // Only the outputs a hub export has (no new_key_values.*): the decoder's present path.
      'present-only': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.help) return 'help';
  if (!values.out) throw new Error('--out DIR is required');
  const out = path.resolve(values.out);
  const seed = integerOption('seed', values.seed);
  const peaked = values.peaked ? { peaked: PEAKED } : {};
  if (values.arch === 'gpt2') {
    const given = LLAMA_ONLY.filter((key) => values[key] !== undefined);
    if (given.length > 0) throw new Error(`--${given[0]} is for --arch llama or qwen2`);
    const options = {
      kind: 'gpt2' as const,
      out,
      layers: integerOption('layers', values.layers ?? '12'),
      heads: integerOption('heads', values.heads ?? '12'),
      embd: integerOption('embd', values.embd ?? '768'),
      positions: integerOption('positions', values.positions ?? '1024'),
      seed,
      q8: values.q8,
      q4: values.q4,
      newKeyValues: !values['present-only'],
      ...peaked,
    };
    validateModelOptions(options);
    return options;
  }
  if (values.arch !== 'llama' && values.arch !== 'qwen2') throw new Error(`--arch must be gpt2, llama or qwen2, got "${values.arch}"`);
  if (values['present-only']) throw new Error('--present-only is for --arch gpt2');
  if (values.embd !== undefined) throw new Error('--embd is for --arch gpt2 (use --hidden)');
  if (values.tied && values.untied) throw new Error('--tied and --untied contradict each other');
  const shapeName = values.shape ?? (values.arch === 'llama' ? 'smollm2-135m' : 'qwen2.5-0.5b');
  if (!SHAPES.includes(shapeName as LlamaShapeName)) throw new Error(`--shape must be one of ${SHAPES.join(', ')}, got "${shapeName}"`);
  const base = LLAMA_SHAPES[shapeName as LlamaShapeName];
  const pick = (name: string, raw: string | undefined, fallback: number): number =>
    raw === undefined ? fallback : integerOption(name, raw);
  const heads = pick('heads', values.heads, base.heads);
  const hidden = pick('hidden', values.hidden, base.hidden);
  const dims: LlamaDims = {
    ...base,
    arch: values.arch,
    qkvBias: values.arch === 'qwen2',
    layers: pick('layers', values.layers, base.layers),
    heads,
    kvHeads: pick('kv-heads', values['kv-heads'], values.heads === undefined ? base.kvHeads : heads),
    hidden,
    headDim: pick(
      'head-dim',
      values['head-dim'],
      values.heads === undefined && values.hidden === undefined ? base.headDim : hidden / heads,
    ),
    inner: pick('inner', values.inner, base.inner),
    vocabSize: pick('vocab', values.vocab, base.vocabSize),
    positions: pick('positions', values.positions, base.positions),
    ropeTheta: values['rope-theta'] === undefined ? base.ropeTheta : numberOption('rope-theta', values['rope-theta']),
    tied: values.untied ? false : values.tied ? true : base.tied,
  };
  const attention = values.attention;
  if (attention !== undefined && !ATTENTION_KINDS.includes(attention as AttentionKind)) {
    throw new Error(`--attention must be one of ${ATTENTION_KINDS.join(', ')}, got "${attention}"`);
  }
  const options = {
    kind: 'llama' as const,
    out,
    dims,
    seed,
    q8: values.q8,
    q4: values.q4,
    ...peaked,
    ...(attention ? { attention: attention as AttentionKind } : {}),
  };
  validateLlamaOptions(options);
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
    if (options.kind === 'gpt2') await makeModelFolder(options);
    else await makeLlamaModelFolder(options);
  } catch (error) {
    console.error(`make-model: ${errorMessage(error)}`);
    process.exitCode = 1;
    return;
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  const extras = `${options.q8 ? ', with q8' : ''}${options.q4 ? ', with q4' : ''}`;
  if (options.kind === 'gpt2') {
    const { layers, heads, embd, positions, seed } = options;
    console.log(
      `Wrote ${options.out} (${layers} layers, ${heads} heads, ${embd} dims, ${positions} positions, seed ${seed}${extras}) in ${seconds} s`,
    );
  } else {
    const d = options.dims;
    console.log(
      `Wrote ${options.out} (${d.arch}: ${d.layers} layers, ${d.heads} heads, ${d.kvHeads} KV heads, head dim ${d.headDim}, hidden ${d.hidden}, inner ${d.inner}, vocab ${d.vocabSize}, ${d.tied ? 'tied' : 'untied'}, seed ${options.seed}${extras}) in ${seconds} s`,
    );
  }
}

await main();
