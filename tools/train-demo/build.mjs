// Builds the shipped demo model folder (models/demo/) from the fp32 export that export.py wrote: Parley's
// own q8 and q4 graphs, made by the converter the engine uses for hub GPT-2 exports and each checked on
// the engine's probe against the export; config.json with `parley_converted` (so Parley runs the graphs
// as they are, without converting again) and `parley_demo`; the generation config and tokenizer files.
// q4 is left out if the folder would not stay under 5 MB.
//   npm run build && node tools/train-demo/build.mjs [EXPORT_DIR] [OUT_DIR]
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const dist = (module) => import(new URL(`../../dist/src/${module}`, import.meta.url).href);
const { CONVERTED_GRAPH_VERSION, readExport, writeConverted } = await dist('graph/convertGpt2.js');
const { PROBE_PROMPT_TOKENS, PROBE_STEPS, probePrompt, runProbe } = await dist('engine/load/graphProbe.js');
const { compareLogits, judgeProbe } = await dist('engine/load/probeCompare.js');

const exportDir = path.resolve(process.argv[2] ?? path.join(ROOT, '.cache/train-demo/export'));
const out = path.resolve(process.argv[3] ?? path.join(ROOT, 'models/demo'));
const SIZE_LIMIT = 5_000_000;
const FILE_OF = { q8: 'model_quantized.onnx', q4: 'model_q4.onnx' };
const COPIED = ['generation_config.json', 'tokenizer.json', 'tokenizer_config.json', 'special_tokens_map.json'];
const DEMO_DESCRIPTION = 'a 3M-parameter model trained on the King James Bible';

const source = path.join(exportDir, 'onnx', 'model.onnx');
if (!existsSync(source)) throw new Error(`${source} is missing: run tools/train-demo/export.py first`);
const config = JSON.parse(readFileSync(path.join(exportDir, 'config.json'), 'utf8'));
const heads = config.n_head;
const headDim = config.n_embd / heads;

const started = performance.now();
const { exported, sha256 } = await readExport(source, heads);
const parameters = [...exported.params.entries()]
  .filter(([name]) => name !== 'lm_head.weight') // tied to the token embedding
  .reduce((sum, [, values]) => sum + values.length, 0);
console.log(`read ${path.relative(ROOT, source)}: ${parameters} parameters, ${exported.params.size} tensors`);

rmSync(out, { recursive: true, force: true });
mkdirSync(path.join(out, 'onnx'), { recursive: true });
for (const file of COPIED) copyFileSync(path.join(exportDir, file), path.join(out, file));
writeFileSync(path.join(out, '.gitignore'), '# the repository ignores *.onnx; these are the shipped model\n!*.onnx\n');
writeFileSync(path.join(out, 'config.json'), `${JSON.stringify({
  ...config,
  parley_converted: { graphVersion: CONVERTED_GRAPH_VERSION, source: 'tools/train-demo (fp32 export, not shipped)', sha256 },
  parley_demo: {
    description: DEMO_DESCRIPTION,
    parameters,
    corpus: "the King James Version of the Bible (1611; its copyright has expired), from Debian's bible-kjv package, " +
      'verse labels stripped, one verse per line; Genesis to Jude trained on, Revelation held out',
    trainedWith: 'tools/train-demo/',
  },
}, null, 2)}\n`);

const prompt = probePrompt(config.vocab_size);
const reference = await runProbe(source, prompt, { steps: PROBE_STEPS, heads, headDim, unoptimised: true });
for (const precision of ['q8', 'q4']) {
  const target = path.join(out, 'onnx', FILE_OF[precision]);
  await writeConverted(exported, precision, target);
  const candidate = await runProbe(target, prompt, { continuation: reference.continuation, heads, headDim });
  const verdict = judgeProbe(precision, compareLogits(reference.rows, candidate.rows), PROBE_PROMPT_TOKENS + PROBE_STEPS);
  console.log(`${precision}: ${path.relative(ROOT, target)}, ${statSync(target).size} bytes; probe: ${verdict.summary}`);
  if (!verdict.ok) throw new Error(`the ${precision} graph failed its probe`);
  if (folderBytes(out) > SIZE_LIMIT) {
    if (precision === 'q8') throw new Error(`models/demo with q8 alone is over ${SIZE_LIMIT} bytes`);
    rmSync(target);
    console.log(`${precision} left out: the folder would be over ${SIZE_LIMIT} bytes`);
  }
}
console.log(`${path.relative(ROOT, out)}: ${folderBytes(out)} bytes in all (limit ${SIZE_LIMIT}), ` +
  `built in ${((performance.now() - started) / 1000).toFixed(1)} s`);

function folderBytes(dir) {
  return readdirSync(dir, { recursive: true })
    .map((name) => path.join(dir, name))
    .filter((file) => statSync(file).isFile())
    .reduce((sum, file) => sum + statSync(file).size, 0);
}
