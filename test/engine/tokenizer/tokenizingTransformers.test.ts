// The tokenizer thread's transformers.js loads without sharp's and onnxruntime's native
// libraries, and still tokenizes as the full import does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { HF_QWEN2_TINY } from '../../helpers/fixtures.js';

interface Report {
  ids: number[];
  text: string;
  nativeLibraries: string[];
  imageError: string;
}

/** Runs `body` in a fresh thread that has `transformers` (loaded one way or the other) and `dir`. */
function inThread(load: 'tokenizing' | 'full'): Promise<Report> {
  const loader =
    load === 'tokenizing'
      ? `(await import(${JSON.stringify(new URL('../../../src/engine/tokenizer/tokenizingTransformers.js', import.meta.url).href)})).loadTokenizingTransformers()`
      : `await import('@huggingface/transformers')`;
  const code = `
    const { parentPort, workerData } = require('node:worker_threads');
    const { readFileSync } = require('node:fs');
    (async () => {
      const transformers = ${loader};
      const tokenizer = await transformers.AutoTokenizer.from_pretrained(workerData.dir, { local_files_only: true });
      const ids = tokenizer.encode('Hello there, world — ça va?', { add_special_tokens: false });
      const text = tokenizer.decode(ids, { skip_special_tokens: true });
      const maps = readFileSync('/proc/self/maps', 'utf8');
      const nativeLibraries = ['libvips', 'sharp-linux', 'libonnxruntime'].filter((lib) => maps.includes(lib));
      let imageError = '';
      try { await transformers.RawImage.fromBlob(new Blob([new Uint8Array(8)])); } catch (err) { imageError = String(err.message); }
      parentPort.postMessage({ ids, text, nativeLibraries, imageError });
    })().catch((err) => parentPort.postMessage({ error: String(err.stack) }));
  `;
  return new Promise((resolve, reject) => {
    const worker = new Worker(code, { eval: true, workerData: { dir: HF_QWEN2_TINY } });
    worker.once('message', (m: Report & { error?: string }) => {
      void worker.terminate();
      if (m.error) reject(new Error(m.error));
      else resolve(m);
    });
    worker.once('error', reject);
  });
}

test(
  'the tokenizing load tokenizes as the full import does, without the native libraries',
  { skip: process.platform !== 'linux' && 'reads /proc/self/maps' },
  async () => {
    // Each in a process of its own would be cleaner; here the tokenizing load runs first, so
    // nothing in this process has mapped the libraries yet when it reports.
    const tokenizing = await inThread('tokenizing');
    assert.deepEqual(tokenizing.nativeLibraries, []);
    assert.match(tokenizing.imageError, /not processed in the tokenizer thread/);
    const full = await inThread('full');
    assert.ok(full.nativeLibraries.length > 0, 'the full import maps sharp and onnxruntime: the check above can fail');
    assert.deepEqual(tokenizing.ids, full.ids);
    assert.equal(tokenizing.text, full.text);
    assert.ok(tokenizing.ids.length > 3);
  },
);
