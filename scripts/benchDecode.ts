// npm run bench:decode [-- fp32,q8]: only the decode cases of `npm run bench`, for a quick
// look while working on the engine (about 2 minutes instead of 10). Same JSON last line shape
// as the cases in the full benchmark.
import os from 'node:os';
import path from 'node:path';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { DTYPES, type Dtype } from '../src/engine/protocol.js';
import { gpt2SmallDir } from '../test/helpers/fixtures.js';
import { measureBandwidth } from './bandwidth.js';
import { benchEngine } from './benchEngine.js';
import { log, round } from './benchStats.js';
import { decodeCases, decodeRatio, type DecodeCase, type Shape } from './decodeBench.js';

const dtypes = (process.argv[2] ?? 'fp32,q8').split(',') as Dtype[];
const unknown = dtypes.find((d) => !DTYPES.includes(d));
if (unknown) throw new Error(`unknown dtype ${unknown}; use a comma-separated list of ${DTYPES.join(', ')}`);
const dir = await gpt2SmallDir(true);
const shape = JSON.parse(await readFile(path.join(dir, 'config.json'), 'utf8')) as Shape;
const bandwidthGBs = await measureBandwidth(2);
log(`bandwidth ${bandwidthGBs.toFixed(1)} GB/s`);
const cacheDir = await mkdtemp(path.join(os.tmpdir(), 'parley-bench-'));
const engine = benchEngine(cacheDir, false);
const cases: DecodeCase[] = [];
try {
  for (const dtype of dtypes) cases.push(...(await decodeCases(engine, dir, shape, dtype, bandwidthGBs)));
} finally {
  await engine.dispose();
  await rm(cacheDir, { recursive: true, force: true });
}
const ratios = Object.fromEntries(dtypes.map((d) => [d, decodeRatio(cases.filter((c) => c.dtype === d))]));
console.log(JSON.stringify({ cases, bandwidthGBs: round(bandwidthGBs), decodeRatio896to16: ratios }));
