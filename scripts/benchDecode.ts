// npm run bench:decode [-- fp32,q8] [--present]: only the decode cases of `npm run bench`, for
// a quick look while working on the engine (about 2 minutes instead of 10). With --present, the
// same cases also run on a folder whose graphs have only the outputs a hub export has, so the
// decoder takes its present path: the two ways of carrying the KV cache, side by side in one run.
import os from 'node:os';
import path from 'node:path';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { DTYPES, type Dtype } from '../src/engine/protocol.js';
import { gpt2SmallDir, gpt2SmallPresentOnlyDir } from '../test/helpers/fixtures.js';
import { measureBandwidth } from './bandwidth.js';
import { benchEngine } from './benchEngine.js';
import { log, round } from './benchStats.js';
import { decodeCases, decodeRatios, type DecodeCase, type Shape } from './decodeBench.js';

const args = process.argv.slice(2);
const withPresent = args.includes('--present');
const dtypes = (args.find((a) => !a.startsWith('--')) ?? 'fp32,q8,q4').split(',') as Dtype[];
const unknown = dtypes.find((d) => !DTYPES.includes(d));
if (unknown) throw new Error(`unknown dtype ${unknown}; use a comma-separated list of ${DTYPES.join(', ')}`);

const folders = [{ path: 'rows', dir: await gpt2SmallDir(true) }];
if (withPresent) folders.push({ path: 'present', dir: await gpt2SmallPresentOnlyDir(true) });
const shape = JSON.parse(await readFile(path.join(folders[0]!.dir, 'config.json'), 'utf8')) as Shape;
const bandwidthGBs = await measureBandwidth(2);
log(`bandwidth ${bandwidthGBs.toFixed(1)} GB/s`);
const cacheDir = await mkdtemp(path.join(os.tmpdir(), 'parley-bench-'));
const engine = benchEngine(cacheDir, false);
const results: { path: string; cases: DecodeCase[]; decodeRatio896to16: ReturnType<typeof decodeRatios> }[] = [];
try {
  for (const { path: kvPath, dir } of folders) {
    log(`${kvPath} path…`);
    const cases: DecodeCase[] = [];
    for (const dtype of dtypes) cases.push(...(await decodeCases(engine, dir, shape, dtype, bandwidthGBs)));
    results.push({ path: kvPath, cases, decodeRatio896to16: decodeRatios(cases) });
  }
} finally {
  await engine.dispose();
  await rm(cacheDir, { recursive: true, force: true });
}
console.log(JSON.stringify({ bandwidthGBs: round(bandwidthGBs), results }));
