// A stand-in for the engine worker that speaks the real protocol but misbehaves on cue, so
// the real WorkerEngineClient can be tested against failures the real worker rarely shows.
//   load "ok…"             ready at once (any other name not below too)
//   load "fail…"           an error reply
//   load "crash…"          the worker dies
//   load "count:<file>"    ready the first time (counted in <file>), dies on every later load
//   generate "throw"       one token, then an `error` message for the request (as the real
//                          worker's queue sends when something throws outside generate's try)
//   generate "die"         one token, then the worker dies
//   generate other         two tokens and done
import { readFileSync, writeFileSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import type { FromWorker, ModelInfo, ToWorker } from '../../src/engine/protocol.js';

const port = parentPort!;
const send = (msg: FromWorker): void => port.postMessage(msg);
const info = (modelId: string): ModelInfo => ({
  modelId,
  contextLength: 256,
  vocabSize: 100,
  eosTokenIds: [0],
  dtype: 'fp32',
  hasChatTemplate: false,
  randomWeights: false,
});
const die = (): never => process.exit(3);

port.on('message', (msg: ToWorker) => {
  switch (msg.type) {
    case 'load': {
      const ref = msg.modelRef;
      if (ref.startsWith('fail')) return send({ type: 'error', id: msg.id, code: 'model-corrupt', message: `${ref} is broken` });
      if (ref.startsWith('crash')) return die();
      if (ref.startsWith('count:')) {
        const file = ref.slice('count:'.length);
        let loads = 0;
        try {
          loads = Number(readFileSync(file, 'utf8'));
        } catch {
          // First load: no file yet.
        }
        writeFileSync(file, String(loads + 1));
        if (loads > 0) return die();
      }
      return send({ type: 'ready', id: msg.id, info: info(ref) });
    }
    case 'count':
      return send({ type: 'counts', id: msg.id, counts: msg.texts.map((t) => Math.ceil(t.length / 4)) });
    case 'tokenize':
      return send({ type: 'tokens', id: msg.id, ids: msg.texts.map(() => [1]) });
    case 'generate': {
      send({ type: 'token', id: msg.id, text: ' a', tokenId: 1 });
      if (msg.prompt === 'throw') return send({ type: 'error', id: msg.id, code: 'internal', message: 'prefix cache broke' });
      if (msg.prompt === 'die') return die();
      send({ type: 'token', id: msg.id, text: ' b', tokenId: 2 });
      const stats = { promptTokens: 1, generatedTokens: 2, ttftMs: 1, tokensPerSecond: 1 };
      return send({ type: 'done', id: msg.id, reason: 'eos', text: ' a b', ...stats });
    }
    case 'dispose':
      send({ type: 'disposed', id: msg.id });
      port.close();
      return;
  }
});
