// Loads the trained tokenizer with transformers.js (as Parley does) and checks that encode -> decode gives
// back the corpus exactly, and, when train.py's token file is there, that transformers.js and bpe.py agree
// on every token id (so the model is trained on the ids Parley will feed it).
//   node tools/train-demo/check_tokenizer.mjs [TOKENIZER_DIR] [CORPUS] [IDS_JSON]
import { readFileSync, existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { AutoTokenizer, env } from '@huggingface/transformers';

const dir = resolve(process.argv[2] ?? '.cache/train-demo/tokenizer');
const corpus = readFileSync(process.argv[3] ?? '.cache/train-demo/train.txt', 'utf8');
const idsFile = process.argv[4] ?? '.cache/train-demo/train_head_ids.json';

env.allowRemoteModels = false;
env.allowLocalModels = true;
env.localModelPath = '/';
const tok = await AutoTokenizer.from_pretrained(dir);

let failed = false;
const head = corpus.slice(0, 10_000);
const ids = tok.encode(head, { add_special_tokens: false });
const back = tok.decode(ids, { skip_special_tokens: false });
console.log(`first 10k chars: ${ids.length} tokens (${(head.length / ids.length).toFixed(2)} chars/token), ` +
  `round trip ${back === head ? 'exact' : 'DIFFERS'}`);
if (back !== head) failed = true;

const all = tok.encode(corpus, { add_special_tokens: false });
const allBack = tok.decode(all, { skip_special_tokens: false });
console.log(`whole file: ${corpus.length} chars, ${all.length} tokens, round trip ${allBack === corpus ? 'exact' : 'DIFFERS'}`);
if (allBack !== corpus) failed = true;

if (existsSync(idsFile)) {
  const py = JSON.parse(readFileSync(idsFile, 'utf8'));
  const n = Math.min(py.length, all.length);
  let first = -1;
  for (let i = 0; i < n; i++) if (py[i] !== all[i]) { first = i; break; }
  console.log(`bpe.py vs transformers.js over ${n} ids: ${first < 0 ? 'identical' : `first difference at ${first}`}`);
  if (first >= 0 || py.length > all.length) failed = true;
}
process.exit(failed ? 1 : 0);
