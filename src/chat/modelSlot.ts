// The model in use: loads in the background with their progress on screen, and which one
// is loaded. A failed load keeps the model in use.
import type { EngineClient } from '../engine/engineClient.js';
import type { Dtype, ModelInfo } from '../engine/protocol.js';
import { loadFailureLines } from '../ui/loadFailure.js';
import { startLoading, withProgress } from '../ui/loadingProgress.js';
import { modelLabel } from '../ui/modelLabel.js';
import type { ViewStore } from './viewStore.js';

export interface ModelSlotInput {
  engine: EngineClient;
  view: ViewStore;
  offline: boolean;
  dtype: () => Dtype;
  /** The newest load finished: `model` is in use. */
  onReady: (ref: string, model: ModelInfo) => void;
  /** The newest load failed (already reported). */
  onFailed: () => void;
}

export class ModelSlot {
  private activeRef: string | null = null;
  private loadSeq = 0;

  constructor(private readonly input: ModelSlotInput) {}

  get model(): ModelInfo | null {
    return this.input.engine.model;
  }

  /** The ref of the model in use, as it was typed. */
  get ref(): string | null {
    return this.activeRef;
  }

  get label(): string | null {
    return this.activeRef === null ? null : modelLabel(this.activeRef);
  }

  get loading(): boolean {
    return this.input.view.getState().loading !== null;
  }

  async load(ref: string): Promise<void> {
    const { engine, view } = this.input;
    const seq = ++this.loadSeq;
    view.update({ loading: startLoading(ref) });
    try {
      await engine.load(ref, { dtype: this.input.dtype(), offline: this.input.offline }, (progress) => {
        const loading = view.getState().loading;
        if (seq === this.loadSeq && loading) view.update({ loading: withProgress(loading, progress) });
      });
    } catch (error) {
      if (seq !== this.loadSeq) return;
      const current = engine.model ? this.activeRef : null;
      view.update({ loading: null });
      for (const line of loadFailureLines(ref, error, current, this.input.offline)) view.notice(line, 'error');
      this.input.onFailed();
      return;
    }
    if (seq !== this.loadSeq) return;
    this.activeRef = ref;
    view.update({ loading: null });
    const model = engine.model;
    if (model) this.input.onReady(ref, model);
  }
}
