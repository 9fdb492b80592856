// onnxruntime's intra-op threading choices in the full pipeline (worker engine, tokenizer
// thread, messages): each configuration runs peerParleyRun in a fresh process, configurations
// interleaved round by round so drifting load favours none. Last line: JSON.
//   node dist/scripts/benchThreads.js [--dtypes q8,fp32] [--contexts 16,512] [--rounds 3]
import { execFile, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { promisify } from 'node:util';
import { gpt2SmallDir } from '../test/helpers/fixtures.js';
import { log, median, round } from './benchStats.js';

const { values } = parseArgs({
  options: {
    dtypes: { type: 'string', default: 'q8,fp32' },
    contexts: { type: 'string', default: '16,512' },
    rounds: { type: 'string', default: '3' },
    configs: { type: 'string', default: 'threads=2;threads=2,spin=1;threads=2,spin=1,spin_us=200;threads=1;threads=1,spin=1' },
  },
});
const configs = values.configs.split(';');
const dir = await gpt2SmallDir(true);
const script = fileURLToPath(new URL('./peerParleyRun.js', import.meta.url));
const uptime = (): string => execFileSync('uptime').toString().trim();
const start = uptime();
log(start);
const results: { dtype: string; context: number; config: string; decodeTokPerS: number; ttftMs: number }[] = [];
for (const dtype of values.dtypes.split(',')) {
  for (const context of values.contexts.split(',').map(Number)) {
    const runs = new Map<string, { tps: number[]; ttft: number[] }>(configs.map((c) => [c, { tps: [], ttft: [] }]));
    for (let r = 0; r < Number(values.rounds); r++) {
      const order = r % 2 === 0 ? configs : [...configs].reverse();
      for (const config of order) {
        const { stdout } = await promisify(execFile)(process.execPath, ['--single-threaded-gc', script, dir, dtype, String(context)], {
          env: { ...process.env, PARLEY_ORT_THREADING: config },
        });
        const result = JSON.parse(stdout.trim().split('\n').pop()!) as { decodeTokPerS: number; ttftMs: number };
        runs.get(config)!.tps.push(result.decodeTokPerS);
        runs.get(config)!.ttft.push(result.ttftMs);
      }
    }
    for (const config of configs) {
      const r = runs.get(config)!;
      const row = { dtype, context, config, decodeTokPerS: round(median(r.tps)), ttftMs: round(median(r.ttft)) };
      log(JSON.stringify(row));
      results.push(row);
    }
  }
}
console.log(JSON.stringify({ uptime: { start, end: uptime() }, results }));
