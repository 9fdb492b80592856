// npm run bench:peers [-- --shapes gpt2-small,smollm2-135m,qwen2.5-0.5b --rounds N --dtypes fp32,q8,q4
//   --contexts 16,512,896 --as-is SHAPE=DIR … --hub-style DIR [--hub-style-only] --poll N --skip-check --check-only]
// Parley against llama.cpp built for this CPU, on the same weights: each shape's generated model
// (GPT-2 small, or a Llama-family shape from make-model) written as GGUF by scripts/gguf, in one
// run: the engines alternate case by case, 2 threads each, a fresh process per case (peak RSS
// from /usr/bin/time). First, per architecture, a check that the F32 GGUF and Parley's fp32 give
// the same greedy text on a peaked model; a shape whose check fails is not timed. The last line
// is JSON with both engines' figures and the ratios Parley ÷ llama.cpp, each case naming its shape.
// --as-is SHAPE=DIR: DIR is a hub-style Optimum export of a Llama-family SHAPE (made by
// test/fixtures/tools/make_fixture.py): it runs as it is (conversion off) beside Parley's graph
// converted from it, alternating. --hub-style DIR: GPT-2 small's conversion rows (gpt2HubStyle.ts);
// --hub-style-only skips llama.cpp.
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Dtype } from '../src/engine/protocol.js';
import { MODELS_CACHE_DIR, REPO_ROOT } from '../test/helpers/fixtures.js';
import { log } from './benchStats.js';
import type { GgufType } from './gguf/ggufFile.js';
import { type LlamaCpp, NODE_LLAMA_CPP, ensureLlamaCpp } from './llamaCppPeer.js';
import { gpt2GreedyCheck, gpt2SmallPeer } from './peers/gpt2Peer.js';
import { type HubStyleRow, gpt2HubStyleRows } from './peers/gpt2HubStyle.js';
import type { GreedyCheck } from './peers/greedyCheck.js';
import { type AsIsRow, LLAMA_SHAPE_NAMES, type LlamaShapeName, asIsRows, llamaGreedyCheck, llamaShapePeer } from './peers/llamaPeer.js';
import { type Figures, NEW_TOKENS, alternate, llamaCase, parleyCase, ratiosOf } from './peers/peerFigures.js';

const SHAPES = ['gpt2-small', ...LLAMA_SHAPE_NAMES] as const;
type ShapeName = (typeof SHAPES)[number];
const ARCH_OF: Record<ShapeName, 'gpt2' | 'llama' | 'qwen2'> = { 'gpt2-small': 'gpt2', 'smollm2-135m': 'llama', 'qwen2.5-0.5b': 'qwen2' };

const { values } = parseArgs({
  options: {
    shapes: { type: 'string', default: SHAPES.join(',') },
    rounds: { type: 'string', default: '2' },
    dtypes: { type: 'string', default: 'fp32,q8,q4' },
    contexts: { type: 'string', default: '16,512,896' },
    'skip-check': { type: 'boolean', default: false },
    'check-only': { type: 'boolean', default: false },
    'as-is': { type: 'string', multiple: true, default: [] },
    'hub-style': { type: 'string' },
    'hub-style-only': { type: 'boolean', default: false },
    poll: { type: 'string' },
  },
});

function fail(message: string): never {
  console.error(`bench:peers: ${message}`);
  process.exit(2);
}
const ROUNDS = Number(values.rounds);
if (!Number.isInteger(ROUNDS) || ROUNDS < 1) fail(`--rounds must be a positive integer, got ${values.rounds}`);
const DTYPE_PAIRS: Record<string, GgufType> = { fp32: 'F32', q8: 'Q8_0', q4: 'Q4_0' };
const dtypes = values.dtypes.split(',') as Dtype[];
for (const d of dtypes) if (!DTYPE_PAIRS[d]) fail(`--dtypes: ${d} is not fp32, q8 or q4`);
const contexts = values.contexts.split(',').map(Number);
if (contexts.some((n) => !Number.isInteger(n) || n < 1)) fail(`--contexts must be positive integers, got ${values.contexts}`);
const shapes = values.shapes.split(',') as ShapeName[];
for (const s of shapes) if (!SHAPES.includes(s)) fail(`--shapes: ${s} is not one of ${SHAPES.join(', ')}`);
const asIs = new Map<LlamaShapeName, string>();
for (const pair of values['as-is']) {
  const [shape, dir] = pair.split('=');
  if (!dir || !(LLAMA_SHAPE_NAMES as string[]).includes(shape!))
    fail(`--as-is wants SHAPE=DIR with SHAPE one of ${LLAMA_SHAPE_NAMES.join(', ')}, got ${pair}`);
  asIs.set(shape as LlamaShapeName, path.resolve(dir));
}
const poll = values.poll === undefined ? undefined : Number(values.poll);
const uptime = (): string => execFileSync('uptime').toString().trim();

interface PeerCase {
  shape: ShapeName;
  dtype: Dtype;
  gguf: GgufType;
  context: number;
  parley: Figures;
  llama: Figures;
  ratios: Figures;
}

async function checkArch(peer: LlamaCpp, arch: 'gpt2' | 'llama' | 'qwen2'): Promise<GreedyCheck> {
  const check = arch === 'gpt2' ? await gpt2GreedyCheck(peer) : await llamaGreedyCheck(peer, arch);
  log(
    `greedy check, ${arch} (peaked model, F32 vs fp32, 32 tokens): ${check.equal ? 'same text' : 'DIFFERENT'}\n  parley: ${JSON.stringify(check.parley)}\n  llama:  ${JSON.stringify(check.llama)}`,
  );
  return check;
}

async function shapeModel(shape: ShapeName): Promise<{ folder: string; gguf: (type: GgufType) => Promise<string> }> {
  return shape === 'gpt2-small' ? gpt2SmallPeer() : llamaShapePeer(shape);
}

async function peerCases(peer: LlamaCpp, shape: ShapeName): Promise<PeerCase[]> {
  const model = await shapeModel(shape);
  const cases: PeerCase[] = [];
  for (const dtype of dtypes) {
    const file = await model.gguf(DTYPE_PAIRS[dtype]!);
    for (const n of contexts) {
      const [parley, llama] = await alternate(ROUNDS, [() => parleyCase(model.folder, dtype, n), () => llamaCase(peer, file, n, poll)]);
      const c = { shape, dtype, gguf: DTYPE_PAIRS[dtype]!, context: n, parley: parley!, llama: llama!, ratios: ratiosOf(parley!, llama!) };
      log(JSON.stringify(c));
      cases.push(c);
    }
  }
  return cases;
}

const loadAtStart = uptime();
log(`uptime at start: ${loadAtStart}`);
const peer = values['hub-style-only'] ? null : await ensureLlamaCpp(path.join(REPO_ROOT, '.cache'));
const checks: Partial<Record<'gpt2' | 'llama' | 'qwen2', boolean>> = {};
const cases: PeerCase[] = [];
const asIsCases: AsIsRow[] = [];
if (peer) {
  log(`llama.cpp ${peer.commit.slice(0, 12)} (from ${NODE_LLAMA_CPP}), built with GGML_NATIVE`);
  if (!values['skip-check']) {
    for (const arch of new Set(shapes.map((s) => ARCH_OF[s]))) checks[arch] = (await checkArch(peer, arch)).equal;
  }
  if (values['check-only']) process.exit(Object.values(checks).every(Boolean) ? 0 : 1);
  for (const shape of shapes) {
    if (checks[ARCH_OF[shape]] === false) {
      log(`${shape}: not timed, the greedy check of ${ARCH_OF[shape]} failed`);
      continue;
    }
    cases.push(...(await peerCases(peer, shape)));
  }
}
for (const [shape, dir] of asIs) {
  const generated = await llamaShapePeer(shape);
  asIsCases.push(...(await asIsRows(shape, dir, generated.folder, dtypes, contexts, ROUNDS)));
}
const hubStyle: HubStyleRow[] = values['hub-style']
  ? await gpt2HubStyleRows(values['hub-style'], (await gpt2SmallPeer()).folder, dtypes, contexts, ROUNDS)
  : [];
const loadAtEnd = uptime();
log(`uptime at end: ${loadAtEnd}`);
console.log(
  JSON.stringify({
    llamaCpp: peer ? { commit: peer.commit, from: NODE_LLAMA_CPP, build: 'GGML_NATIVE=ON, Release' } : null,
    threads: 2,
    llamaPoll: poll === undefined ? 'default (50)' : poll,
    newTokens: NEW_TOKENS,
    rounds: ROUNDS,
    uptime: { start: loadAtStart, end: loadAtEnd },
    greedyChecks: checks,
    modelsDir: MODELS_CACHE_DIR,
    cases,
    ...(asIsCases.length > 0 ? { asIs: asIsCases } : {}),
    ...(hubStyle.length > 0 ? { hubStyle } : {}),
  }),
);
