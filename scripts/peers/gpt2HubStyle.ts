// bench:peers --hub-style DIR: a hub-style GPT-2 small export (made by
// test/fixtures/tools/make_fixture.py, plain or merged, under either naming) converted to
// Parley's graph and timed against the generated folder, alternating, as decode ratios
// converted ÷ generated, with the conversion time. When DIR has an 8-bit file, q8 is also
// built from it alone (as offline, without the fp32 file) and timed the same way.
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm, symlink } from 'node:fs/promises';
import path from 'node:path';
import type { Dtype } from '../../src/engine/protocol.js';
import { prepareGraph, sourceFileFor } from '../../src/engine/load/convertedGraph.js';
import { findOnnxFile } from '../../src/hub/dtypeFiles.js';
import { REPO_ROOT } from '../../test/helpers/fixtures.js';
import { log, round } from '../benchStats.js';
import { type Figures, medianOf, parleyCase } from './peerFigures.js';

export type HubStyleRow = {
  dtype: Dtype;
  source: string;
  convertSeconds: number;
  context: number;
  converted: Figures;
  generated: Figures;
  decodeRatio: number;
};

export async function gpt2HubStyleRows(
  sourceDir: string,
  generatedDir: string,
  dtypes: readonly Dtype[],
  contexts: readonly number[],
  rounds: number,
): Promise<HubStyleRow[]> {
  const source = path.resolve(sourceDir);
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
  const rows: HubStyleRow[] = [];
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
      for (let r = 0; r < rounds; r++) {
        c.push(await parleyCase(choice.folder, dtype, n));
        g.push(await parleyCase(generatedDir, dtype, n));
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
      rows.push(row);
    }
  }
  return rows;
}
