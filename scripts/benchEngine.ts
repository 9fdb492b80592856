// The real worker engine as the benchmarks use it: with or without the prompt-prefix cache,
// and with each generation's done event recorded (chatTurn keeps only part of it).
import type { EngineClient, GenerationStream } from '../src/engine/engineClient.js';
import type { GenerateEvent } from '../src/engine/protocol.js';
import { createEngine, type WorkerEngineClient } from '../src/engine/worker/workerEngineClient.js';

export type DoneEvent = Extract<GenerateEvent, { type: 'done' }>;

/** The worker engine, reusing the KV cache across requests or not. */
export function benchEngine(cacheDir: string, prefixCache: boolean): WorkerEngineClient {
  return createEngine({ cacheDir, prefixCache });
}

/** `engine`, with every generation's done event passed to `onDone` on its way through. */
export function tapDone(engine: WorkerEngineClient, onDone: (done: DoneEvent) => void): EngineClient {
  return {
    get model() {
      return engine.model;
    },
    load: (ref, options, onProgress) => engine.load(ref, options, onProgress),
    countTokens: (texts) => engine.countTokens(texts),
    tokenize: (texts) => engine.tokenize(texts),
    generate: (prompt, params): GenerationStream => {
      const stream = engine.generate(prompt, params);
      async function* events(): AsyncGenerator<GenerateEvent> {
        for await (const e of stream) {
          if (e.type === 'done') onDone(e);
          yield e;
        }
      }
      return { requestId: stream.requestId, [Symbol.asyncIterator]: events };
    },
    cancel: () => engine.cancel(),
    onCrash: (listener) => engine.onCrash(listener),
    dispose: () => engine.dispose(),
  };
}
