// One chat turn through the real session layer (chatTurn, transcript format, context window
// with its token-count cache), returning what the engine reported for it.
import type { EngineClient } from '../src/engine/engineClient.js';
import type { SamplingParams } from '../src/engine/protocol.js';
import { chatTurn, type ChatTurnResult } from '../src/chat/chatTurn.js';
import { transcriptFormat } from '../src/prompt/promptFormat.js';
import { TokenCountCache } from '../src/prompt/tokenCountCache.js';
import type { Session } from '../src/session/types.js';
import { tapDone, type DoneEvent } from './benchEngine.js';
import type { WorkerEngineClient } from '../src/engine/worker/workerEngineClient.js';

export const greedy = (maxNewTokens: number): SamplingParams => ({
  temperature: 0,
  topK: 0,
  topP: 1,
  repetitionPenalty: 1,
  maxNewTokens,
  seed: 1,
});

export interface BenchTurn {
  result: ChatTurnResult;
  done: DoneEvent;
}

/** Runs turns on one engine as the chat does: one format, one token-count cache. */
export class ChatBenchRunner {
  private readonly counts = new TokenCountCache();
  private readonly format = transcriptFormat();
  private lastDone: DoneEvent | null = null;
  private readonly engine: EngineClient;

  constructor(engine: WorkerEngineClient) {
    this.engine = tapDone(engine, (done) => (this.lastDone = done));
  }

  async turn(session: Session, params: SamplingParams): Promise<BenchTurn> {
    const model = this.engine.model;
    if (!model) throw new Error('no model is loaded');
    this.lastDone = null;
    let result: ChatTurnResult | null = null;
    for await (const e of chatTurn({
      engine: this.engine,
      session,
      params,
      format: this.format,
      countTokens: this.counts.counter(model.modelId, (texts) => this.engine.countTokens(texts)),
    })) {
      if (e.type === 'done') result = e.result;
    }
    if (!result || result.reason === 'error') throw new Error(`chat turn failed: ${result?.error ?? 'no result'}`);
    if (!this.lastDone) throw new Error('the engine reported no done event');
    return { result, done: this.lastDone };
  }
}
