// transformers.js for a thread that only tokenizes. Its Node build loads two native libraries
// at import: sharp (libvips, for images) and onnxruntime-node (for sessions). Tokenizing uses
// neither, and together they cost this thread about 20 MB resident. The build's CommonJS
// form resolves both through require(), so this thread's module cache is given stand-ins
// first: sharp becomes a function that refuses, onnxruntime-node becomes onnxruntime-common,
// the pure-JS API it is built on, with no backend registered. Each worker thread has its own
// module cache, so nothing else in the process is affected.
import { createRequire } from 'node:module';

type Transformers = typeof import('@huggingface/transformers');

const SHARP_REFUSES = (): never => {
  throw new Error('images are not processed in the tokenizer thread');
};

export function loadTokenizingTransformers(): Transformers {
  const require = createRequire(import.meta.url);
  const entry = require.resolve('@huggingface/transformers');
  const fromEntry = createRequire(entry);
  standIn(fromEntry, 'sharp', SHARP_REFUSES);
  standIn(fromEntry, 'onnxruntime-node', fromEntry('onnxruntime-common'));
  return fromEntry(entry) as Transformers;
}

function standIn(require: NodeJS.Require, id: string, exports: unknown): void {
  const filename = require.resolve(id);
  // A partial Module record: require() returns `exports` of a cached, loaded entry as it is.
  require.cache[filename] = { id: filename, filename, loaded: true, exports } as NodeJS.Module;
}
