// How full the context window is: counted again after every pause in typing and after
// every change to the session, with the model's tokenizer through a cache.
import type { EngineClient } from '../engine/engineClient.js';
import type { ModelInfo } from '../engine/protocol.js';
import type { ContextWindow } from '../prompt/contextWindow.js';
import { addUser, awaitsReply } from '../prompt/conversation.js';
import type { PromptFormat } from '../prompt/promptFormat.js';
import { sessionWindow } from '../prompt/sessionWindow.js';
import { TokenCountCache, type CountTokens } from '../prompt/tokenCountCache.js';
import type { Session } from '../session/types.js';

/** How long typing must pause before the context is counted again. */
export const DRAFT_COUNT_DELAY_MS = 150;

export interface ContextMeterInput {
  engine: EngineClient;
  format: () => PromptFormat | null;
  session: () => Session;
  maxNewTokens: () => number;
  /** True while the engine generates: the count waits until the reply is done. */
  paused: () => boolean;
  onChange: () => void;
}

export class ContextMeter {
  tokensUsed: number | null = null;
  turnsOut = 0;
  private readonly tokenCache = new TokenCountCache();
  private draft = '';
  private timer: NodeJS.Timeout | null = null;
  private seq = 0;

  constructor(private readonly input: ContextMeterInput) {}

  /** The model's token counter, through the cache. */
  counter(model: ModelInfo | null = this.input.engine.model): CountTokens | null {
    if (!model) return null;
    return this.tokenCache.counter(model.modelId, (texts) => this.input.engine.countTokens(texts));
  }

  draftChanged(text: string): void {
    if (text === this.draft) return;
    this.draft = text;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.refresh();
    }, DRAFT_COUNT_DELAY_MS);
  }

  /** A window a reply was generated from: the count is known without asking. */
  show(window: ContextWindow): void {
    this.seq++;
    this.tokensUsed = window.promptTokens;
    this.turnsOut = window.droppedCount;
    this.input.onChange();
  }

  async refresh(): Promise<void> {
    const seq = ++this.seq;
    const model = this.input.engine.model;
    const counter = this.counter(model);
    const format = this.input.format();
    if (!model || !counter || !format || this.input.paused()) return;
    const session = this.input.session();
    const conversation = awaitsReply(session.conversation)
      ? session.conversation
      : addUser(session.conversation, this.draft, { id: 'draft' });
    let window: ContextWindow | null = null;
    try {
      window = await sessionWindow({
        engine: this.input.engine,
        conversation,
        start: session.windowStart ?? null,
        format,
        contextLength: model.contextLength,
        maxNewTokens: this.input.maxNewTokens(),
        countTokens: counter,
      });
    } catch {
      // The limits are wrong for this model (max tokens too big); commands say so.
    }
    if (seq !== this.seq) return;
    this.tokensUsed = window?.promptTokens ?? null;
    this.turnsOut = window?.droppedCount ?? 0;
    this.input.onChange();
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
