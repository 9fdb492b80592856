// npm run bench:peers [-- --rounds N --dtypes fp32,q8,q4 --contexts 16,512,896 --hub-style DIR [--hub-style-only] --poll N]
// Parley against llama.cpp built for this CPU, on the same weights (the generated GPT-2 small,
// written as GGUF by ggufWriter.ts), in one run: the engines alternate case by case, 2 threads
// each, a fresh process per case (peak RSS from /usr/bin/time). First a check that the F32 GGUF
// and Parley's fp32 give the same greedy text over 32 tokens on a peaked model. The last line
// is JSON with both engines' figures and the ratios Parley ÷ llama.cpp.
// --hub-style DIR: also convert DIR (a hub-style GPT-2 small export, made by
// test/fixtures/tools/make_fixture.py, plain or merged, under either naming) and time its
// converted graph against the generated folder, alternating, as decode ratios converted ÷
// generated, with the conversion time. When DIR has an 8-bit file, q8 is also built from it
// alone (as offline, without the fp32 file) and timed the same way. --hub-style-only skips
// llama.cpp.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rename, rm, symlink } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { MODEL_GENERATOR_VERSION, type PeakedScales, generatedParams } from '../src/graph/makeModelFolder.js';
import type { Dtype } from '../src/engine/protocol.js';
import { createEngine } from '../src/engine/worker/workerEngineClient.js';
import { prepareGraph, sourceFileFor } from '../src/engine/load/convertedGraph.js';
import { findOnnxFile } from '../src/hub/dtypeFiles.js';
import { MODELS_CACHE_DIR, REPO_ROOT, cachedModelDir, gpt2SmallDir } from '../test/helpers/fixtures.js';
import { log, median, round } from './benchStats.js';
import type { GgufType } from './gguf/ggufFile.js';
import { writeGpt2Gguf } from './gguf/gpt2Gguf.js';
import { ensureLlamaCpp, llamaBench, llamaSimple, timed } from './llamaCppPeer.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '2' },
    dtypes: { type: 'string', default: 'fp32,q8,q4' },
    contexts: { type: 'string', default: '16,512,896' },
    'skip-check': { type: 'boolean', default: false },
    'check-only': { type: 'boolean', default: false },
    'hub-style': { type: 'string' },
    'hub-style-only': { type: 'boolean', default: false },
    poll: { type: 'string' },
  },
});
const ROUNDS = Number(values.rounds);
const DTYPE_PAIRS: Record<string, GgufType> = { fp32: 'F32', q8: 'Q8_0', q4: 'Q4_0' };
const dtypes = values.dtypes.split(',') as Dtype[];
const contexts = values.contexts.split(',').map(Number);
const NEW_TOKENS = 128;
const GSMALL = { layers: 12, heads: 12, embd: 768, positions: 1024, seed: 1 };
// Sharp enough that no greedy choice flips on rounding, with blocks strong enough that the text
// varies (a tied head on a merely peaked embedding repeats the prompt's last token forever).
const PEAKED = { layers: 4, heads: 4, embd: 256, positions: 1024, seed: 7, peaked: { embedding: 5, mlpOutput: 40 } };
const PEAKED_NAME = `gpt2-peaked-e${PEAKED.peaked.embedding}-m${PEAKED.peaked.mlpOutput}`;
const uptime = (): string => execFileSync('uptime').toString().trim();

/** GGUF of a generated model, cached beside the model folders and named by its options. */
async function gguf(
  name: string,
  options: typeof GSMALL & { peaked?: PeakedScales },
  type: GgufType,
  tokenizerFolder: string,
): Promise<string> {
  const dir = path.join(REPO_ROOT, '.cache', 'peers', 'gguf');
  const file = path.join(dir, `${name}-v${MODEL_GENERATOR_VERSION}-${type}.gguf`);
  if (existsSync(file)) return file;
  await mkdir(dir, { recursive: true });
  log(`writing ${path.basename(file)}…`);
  const { dims, param } = generatedParams(options);
  const temp = `${file}.tmp-${process.pid}`;
  await writeGpt2Gguf(temp, dims, param, type, tokenizerFolder);
  await rename(temp, file);
  return file;
}

async function checkGreedy(peer: Awaited<ReturnType<typeof ensureLlamaCpp>>): Promise<{ equal: boolean; parley: string; llama: string }> {
  const folder = await cachedModelDir(PEAKED_NAME, { ...PEAKED, q8: false });
  const file = await gguf(PEAKED_NAME, PEAKED, 'F32', folder);
  const prompt = 'The quick brown fox jumps over the lazy dog';
  const cacheDir = await mkdtemp(path.join(os.tmpdir(), 'parley-peer-check-'));
  const engine = createEngine({ cacheDir, prefixCache: false });
  let parley = '';
  try {
    await engine.load(folder, { dtype: 'fp32', offline: true });
    const params = { temperature: 0, topK: 0, topP: 1, repetitionPenalty: 1, seed: 1, maxNewTokens: 40 };
    for await (const e of engine.generate(prompt, params)) if (e.type === 'done') parley = e.text;
  } finally {
    await engine.dispose();
    await rm(cacheDir, { recursive: true, force: true });
  }
  const llamaOut = await llamaSimple(peer, file, prompt, 32);
  const llama = llamaOut.replace(/\n$/, '').slice(prompt.length);
  return { equal: llama.length > 0 && parley.startsWith(llama), parley, llama };
}

interface Figures {
  ttftMs: number;
  decodeTokPerS: number;
  peakRssMB: number;
}

async function parleyCase(dir: string, dtype: Dtype, n: number): Promise<Figures> {
  const script = fileURLToPath(new URL('./peerParleyRun.js', import.meta.url));
  const { stdout, peakRssMB } = await timed(process.execPath, ['--single-threaded-gc', script, dir, dtype, String(n)]);
  const result = JSON.parse(stdout.trim().split('\n').pop()!) as { ttftMs: number; decodeTokPerS: number };
  return { ttftMs: result.ttftMs, decodeTokPerS: result.decodeTokPerS, peakRssMB };
}

async function llamaCase(peer: Awaited<ReturnType<typeof ensureLlamaCpp>>, file: string, n: number): Promise<Figures> {
  const poll = values.poll === undefined ? undefined : Number(values.poll);
  const prompt = await llamaBench(peer, file, { prompt: n }, 2, poll);
  const decode = await llamaBench(peer, file, { generate: NEW_TOKENS, depth: n }, 2, poll);
  return { ttftMs: (n / prompt.tokPerS) * 1000, decodeTokPerS: decode.tokPerS, peakRssMB: Math.max(prompt.peakRssMB, decode.peakRssMB) };
}

const medianOf = (runs: Figures[]): Figures => ({
  ttftMs: round(median(runs.map((r) => r.ttftMs))),
  decodeTokPerS: round(median(runs.map((r) => r.decodeTokPerS))),
  peakRssMB: Math.max(...runs.map((r) => r.peakRssMB)),
});

const loadAtStart = uptime();
log(`uptime at start: ${loadAtStart}`);
const dir = await gpt2SmallDir(true);
const onlyHubStyle = values['hub-style-only'];
const peer = onlyHubStyle ? null : await ensureLlamaCpp(path.join(REPO_ROOT, '.cache'));
const check = peer && !values['skip-check'] ? await checkGreedy(peer) : null;
const cases: { dtype: Dtype; gguf: GgufType; context: number; parley: Figures; llama: Figures; ratios: Figures }[] = [];
if (peer) await runPeers(peer);

async function runPeers(peer: Awaited<ReturnType<typeof ensureLlamaCpp>>): Promise<void> {
  log(`llama.cpp ${peer.commit.slice(0, 12)} (from ${'node-llama-cpp@3.21.1'}), built with GGML_NATIVE`);
  if (check)
    log(
      `greedy check (peaked model, F32 vs fp32, 32 tokens): ${check.equal ? 'same text' : 'DIFFERENT'}\n  parley: ${JSON.stringify(check.parley)}\n  llama:  ${JSON.stringify(check.llama)}`,
    );
  if (values['check-only']) process.exit(check?.equal ? 0 : 1);

  const files: Record<string, string> = {};
  for (const dtype of dtypes) files[dtype] = await gguf('gpt2-small-random', GSMALL, DTYPE_PAIRS[dtype]!, dir);

  for (const dtype of dtypes) {
    for (const n of contexts) {
      const p: Figures[] = [];
      const l: Figures[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        // Alternate which engine goes first, so drifting load favours neither.
        if (r % 2 === 0) {
          p.push(await parleyCase(dir, dtype, n));
          l.push(await llamaCase(peer, files[dtype]!, n));
        } else {
          l.push(await llamaCase(peer, files[dtype]!, n));
          p.push(await parleyCase(dir, dtype, n));
        }
      }
      const parley = medianOf(p);
      const llama = medianOf(l);
      const ratios = {
        ttftMs: round(parley.ttftMs / llama.ttftMs, 3),
        decodeTokPerS: round(parley.decodeTokPerS / llama.decodeTokPerS, 3),
        peakRssMB: round(parley.peakRssMB / llama.peakRssMB, 3),
      };
      const c = { dtype, gguf: DTYPE_PAIRS[dtype]!, context: n, parley, llama, ratios };
      log(JSON.stringify(c));
      cases.push(c);
    }
  }
}

type HubStyleRow = {
  dtype: Dtype;
  source: string;
  convertSeconds: number;
  context: number;
  converted: Figures;
  generated: Figures;
  decodeRatio: number;
};
const hubStyle: HubStyleRow[] = [];
if (values['hub-style']) {
  const source = path.resolve(values['hub-style']);
  const runs: { dtype: Dtype; folder: string }[] = dtypes.map((dtype) => ({ dtype, folder: source }));
  // q8 from the 8-bit file alone: a folder with the JSON files and that file, as a user offline has.
  const eightBit = dtypes.includes('q8') ? sourceFileFor(source, 'q8') : null;
  const eightBitOnly =
    eightBit && sourceFileFor(source, 'fp32') !== null ? findOnnxFile('q8', (f) => existsSync(path.join(source, f))) : null;
  if (eightBitOnly) {
    const view = path.join(REPO_ROOT, '.cache', 'peers', `${path.basename(source)}-8bit-only`);
    await rm(view, { recursive: true, force: true });
    await mkdir(path.join(view, 'onnx'), { recursive: true });
    for (const f of await readdir(source)) if (f.endsWith('.json')) await symlink(path.join(source, f), path.join(view, f));
    await symlink(path.join(source, eightBitOnly.file), path.join(view, eightBitOnly.file));
    runs.push({ dtype: 'q8', folder: view });
  }
  const cacheDir = path.join(REPO_ROOT, '.cache', 'peers', 'converted-cache');
  for (const { dtype, folder } of runs) {
    const started = performance.now();
    const choice = await prepareGraph({
      sourceFolder: folder,
      ref: folder,
      isHub: false,
      cacheDir,
      dtype,
      noConvert: false,
      onProgress: () => {},
    });
    const convertSeconds = round((performance.now() - started) / 1000);
    log(`hub-style ${dtype} from ${path.basename(folder)}: ${choice?.info.note} (${convertSeconds} s)`);
    if (!choice?.folder) continue;
    const from = /converted from (\S+?)[; ]/.exec(choice.info.note)?.[1] ?? '?';
    for (const n of contexts) {
      const c: Figures[] = [];
      const g: Figures[] = [];
      for (let r = 0; r < ROUNDS; r++) {
        c.push(await parleyCase(choice.folder, dtype, n));
        g.push(await parleyCase(dir, dtype, n));
      }
      const converted = medianOf(c);
      const generated = medianOf(g);
      const row = {
        dtype,
        source: from,
        convertSeconds,
        context: n,
        converted,
        generated,
        decodeRatio: round(converted.decodeTokPerS / generated.decodeTokPerS, 3),
      };
      log(JSON.stringify(row));
      hubStyle.push(row);
    }
  }
}
const loadAtEnd = uptime();
log(`uptime at end: ${loadAtEnd}`);
console.log(
  JSON.stringify({
    llamaCpp: peer ? { commit: peer.commit, from: 'node-llama-cpp@3.21.1', build: 'GGML_NATIVE=ON, Release' } : null,
    threads: 2,
    llamaPoll: values.poll === undefined ? 'default (50)' : Number(values.poll),
    newTokens: NEW_TOKENS,
    rounds: ROUNDS,
    uptime: { start: loadAtStart, end: loadAtEnd },
    greedyCheck: check ? { equal: check.equal } : null,
    modelsDir: MODELS_CACHE_DIR,
    cases,
    ...(hubStyle.length > 0 ? { hubStyle } : {}),
  }),
);
