// What turning each new token into text costs the engine, for replies of growing length:
// the tokenizer thread decoding the whole reply per token (a message round trip each), the
// same thread decoding a short tail window, and the byte table in the caller's thread.
// Prints one JSON line.
//   node dist/scripts/detokBench.js [MODEL_DIR]   (default: test/fixtures/hf-gpt2-tiny)
import os from 'node:os';
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { AutoTokenizer, env, LogLevel } from '@huggingface/transformers';
import type { FromTokenizer, ToTokenizer } from '../src/engine/tokenizer/tokenizerProtocol.js';
import { byteLevelTable, decodeSpecOf } from '../src/engine/tokenizer/byteLevelTable.js';
import { ByteLevelDetokenizer } from '../src/engine/tokenizer/byteLevelDetokenizer.js';
import { TailWindowDetokenizer } from '../src/engine/tokenizer/tailWindowDetokenizer.js';
import { HF_GPT2_TINY, REPO_ROOT } from '../test/helpers/fixtures.js';
import { englishText } from './englishText.js';
import { round } from './benchStats.js';

const LENGTHS = [128, 512, 1024];
const dir = process.argv[2] ?? HF_GPT2_TINY;
env.allowRemoteModels = false;
env.logLevel = LogLevel.ERROR;
const tokenizer = await AutoTokenizer.from_pretrained(dir, { local_files_only: true });
const ids = tokenizer.encode(await englishText(), { add_special_tokens: false });
const table = byteLevelTable(decodeSpecOf((tokenizer as unknown as { _tokenizerJSON: unknown })._tokenizerJSON, tokenizer.config)!)!;

const cacheDir = await mkdtemp(path.join(os.tmpdir(), 'parley-detok-bench-'));
const worker = new Worker(path.join(REPO_ROOT, 'dist', 'src', 'engine', 'tokenizer', 'tokenizerWorker.js'), {
  workerData: { ref: dir, offline: true, cacheDir },
});
await new Promise<void>((resolve, reject) => {
  worker.on('message', (m: FromTokenizer) =>
    m.type === 'ready' ? resolve() : m.type === 'failed' ? reject(new Error(m.message)) : undefined,
  );
});
let next = 1;
const decodeMany = (lists: number[][]): Promise<string[]> =>
  new Promise((resolve) => {
    const id = next++;
    const onMessage = (m: FromTokenizer): void => {
      if (m.type !== 'decoded' || m.id !== id) return;
      worker.off('message', onMessage);
      resolve(m.texts);
    };
    worker.on('message', onMessage);
    worker.postMessage({ type: 'decode', id, lists } satisfies ToTokenizer);
  });

/** Microseconds per token to stream the first `n` ids. */
async function perToken(n: number, stream: (ids: number[]) => Promise<string>): Promise<number> {
  const reply = ids.slice(0, n);
  await stream(reply); // warm up
  const started = performance.now();
  const text = await stream(reply);
  const us = ((performance.now() - started) * 1000) / n;
  if (text !== tokenizer.decode(reply, { skip_special_tokens: true, clean_up_tokenization_spaces: false }))
    throw new Error('the streams disagree');
  return round(us);
}

const cases = [];
for (const n of LENGTHS) {
  cases.push({
    replyTokens: n,
    wholeReplyThroughThreadUs: await perToken(n, async (reply) => {
      let text = '';
      for (let i = 1; i <= reply.length; i++) text = (await decodeMany([reply.slice(0, i)]))[0]!;
      return text;
    }),
    tailWindowThroughThreadUs: await perToken(n, async (reply) => {
      const d = new TailWindowDetokenizer(decodeMany);
      let text = '';
      for (const id of reply) text += await d.push(id);
      return text + (await d.finish());
    }),
    byteTableUs: await perToken(n, async (reply) => {
      const d = new ByteLevelDetokenizer(table);
      let text = '';
      for (const id of reply) text += d.push(id);
      return text + d.finish();
    }),
  });
}
await worker.terminate();
await rm(cacheDir, { recursive: true, force: true });
console.log(JSON.stringify({ model: path.basename(dir), loadAverage: os.loadavg().map((x) => round(x, 2)), cases }));
