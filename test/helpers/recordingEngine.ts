import type { EngineClient, GenerationStream } from '../../src/engine/engineClient.js';
import type { GenerateEvent, GenerateParams, GenerationStats } from '../../src/engine/protocol.js';
import type { WorkerEngineClient } from '../../src/engine/worker/workerEngineClient.js';

/** The engine, recording each generation's token ids and stats. */
export class RecordingEngine implements EngineClient {
  readonly replies: { ids: number[]; stats: GenerationStats }[] = [];
  constructor(private readonly engine: WorkerEngineClient) {}
  get model() {
    return this.engine.model;
  }
  load: EngineClient['load'] = (...args) => this.engine.load(...args);
  countTokens: EngineClient['countTokens'] = (texts) => this.engine.countTokens(texts);
  tokenize: EngineClient['tokenize'] = (texts) => this.engine.tokenize(texts);
  cancel = (): void => this.engine.cancel();
  onCrash: EngineClient['onCrash'] = (listener) => this.engine.onCrash(listener);
  dispose = (): Promise<void> => this.engine.dispose();

  generate(prompt: string, params: GenerateParams): GenerationStream {
    const stream = this.engine.generate(prompt, params);
    const replies = this.replies;
    async function* recorded(): AsyncGenerator<GenerateEvent> {
      const ids: number[] = [];
      for await (const event of stream) {
        if (event.type === 'token' && event.tokenId >= 0) ids.push(event.tokenId);
        if (event.type === 'done') replies.push({ ids, stats: event });
        yield event;
      }
    }
    return Object.assign(recorded(), { requestId: stream.requestId });
  }
}
