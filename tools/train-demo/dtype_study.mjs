// The dtype study on the demo model: how far Parley's q8 and q4 graphs (and its fp32 one) are from the fp32
// export, over held-out KJV text (Revelation, never trained on): top-1 agreement and mean KL(fp32 ‖ dtype) of
// the next-token distributions, and each graph's own loss on the text's next tokens. Every graph runs through
// onnxruntime-node with the engine's probe runner, one full pass per 512-token window.
//   npm run build && node tools/train-demo/dtype_study.mjs [EXPORT_DIR] [HELDOUT_TEXT] [POSITIONS]
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AutoTokenizer, env } from '@huggingface/transformers';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dist = (module) => import(new URL(`../../dist/src/${module}`, import.meta.url).href);
const { readExport, writeConverted } = await dist('graph/convertGpt2.js');
const { runProbe } = await dist('engine/load/graphProbe.js');
const { compareLogits } = await dist('engine/load/probeCompare.js');

const exportDir = path.resolve(process.argv[2] ?? path.join(ROOT, '.cache/train-demo/export'));
const heldout = readFileSync(process.argv[3] ?? path.join(ROOT, '.cache/train-demo/heldout.txt'), 'utf8');
const positions = Number(process.argv[4] ?? 1024);
const WINDOW = 512;

env.allowRemoteModels = false;
env.localModelPath = '/';
const tokenizer = await AutoTokenizer.from_pretrained(exportDir);
const ids = tokenizer.encode(heldout, { add_special_tokens: false }).slice(0, positions + 1);
const config = JSON.parse(readFileSync(path.join(exportDir, 'config.json'), 'utf8'));
const heads = config.n_head;
const headDim = config.n_embd / heads;
const source = path.join(exportDir, 'onnx', 'model.onnx');

const scratch = mkdtempSync(path.join(os.tmpdir(), 'demo-dtype-'));
try {
  const { exported } = await readExport(source, heads);
  const graphs = { 'export fp32': source };
  for (const precision of ['fp32', 'q8', 'q4']) {
    graphs[`Parley ${precision}`] = path.join(scratch, `${precision}.onnx`);
    await writeConverted(exported, precision, graphs[`Parley ${precision}`]);
  }
  // Windows of consecutive tokens, each one full pass (no past), every position's logits kept.
  const windows = [];
  for (let start = 0; start + 1 < ids.length && start < positions; start += WINDOW) {
    windows.push(ids.slice(start, Math.min(start + WINDOW, positions)));
  }
  const logitsOf = async (file, unoptimised) => {
    const rows = [];
    for (const window of windows) rows.push(...(await runProbe(file, window, { continuation: [], heads, headDim, unoptimised })).rows);
    return rows;
  };
  const reference = await logitsOf(source, true);
  console.log(`${reference.length} positions of held-out text (Revelation), windows of ${WINDOW} tokens`);
  console.log('graph\tbytes\ttop-1 vs fp32\tmean KL (nats)\tmax |Δlogit|\theld-out loss (nats/token)');
  for (const [name, file] of Object.entries(graphs)) {
    const rows = name === 'export fp32' ? reference : await logitsOf(file, false);
    const stats = compareLogits(reference, rows);
    console.log(`${name}\t${statSync(file).size}\t${(stats.top1 * 100).toFixed(1)} %\t${stats.meanKl.toExponential(2)}\t` +
      `${stats.maxAbsDiff.toExponential(2)}\t${meanLoss(rows, ids).toFixed(4)}`);
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

/** Mean next-token negative log-likelihood: the windows are consecutive, so row r predicts ids[r + 1]. */
function meanLoss(rows, ids) {
  let total = 0;
  rows.forEach((logits, r) => {
    let max = -Infinity;
    for (const x of logits) if (x > max) max = x;
    let sum = 0;
    for (const x of logits) sum += Math.exp(x - max);
    total += max + Math.log(sum) - logits[ids[r + 1]];
  });
  return total / rows.length;
}
