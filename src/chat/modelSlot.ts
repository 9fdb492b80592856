// The model in use. Which model is loaded is the engine client's business alone: the slot
// only remembers the ref each model was asked for by (for its label) and shows loads and
// restarts in progress. A failed load keeps the model in use; after a crash the engine
// reloads the model itself, and the slot reports how that went.
import type { EngineClient } from '../engine/engineClient.js';
import type { Dtype, ModelInfo } from '../engine/protocol.js';
import { loadFailureLines } from './loadFailure.js';
import { startLoading, withProgress } from './view/loadingProgress.js';
import { modelLabel } from './modelLabel.js';
import type { ViewStore } from './view/viewStore.js';
import { errorLine } from '../errors.js';

export interface ModelSlotInput {
  engine: EngineClient;
  view: ViewStore;
  offline: boolean;
  /** The dtype to load `ref` with, and whether it is only a default. */
  loadOptions: (ref: string) => { dtype: Dtype; dtypeIsDefault: boolean; noConvert?: boolean };
  /** `model` is now the one in use: a load finished, or the engine is back after a crash. */
  onReady: (ref: string, model: ModelInfo, how: 'loaded' | 'restarted') => void;
  /** A load or a reload failed (already reported), and no other is under way. */
  onFailed: () => void;
  /** The model in use or the slot's state changed. */
  onChange: () => void;
}

export class ModelSlot {
  /** The ref each loaded model was asked for by, keyed by its model id. */
  private readonly refs = new Map<string, string>();
  private loadSeq = 0;
  /** Loads under way, by sequence number. */
  private readonly pending = new Set<number>();
  /** The engine's reload after its latest crash, while it runs. */
  private recovery: Promise<ModelInfo | null> | null = null;

  constructor(private readonly input: ModelSlotInput) {
    input.engine.onCrash((message, reload) => this.crashed(message, reload));
  }

  get model(): ModelInfo | null {
    return this.input.engine.model;
  }

  /** The ref of the model the engine has loaded, as it was typed. */
  get ref(): string | null {
    const model = this.model;
    return model === null ? null : (this.refs.get(model.modelId) ?? model.modelId);
  }

  get label(): string | null {
    const ref = this.ref;
    return ref === null ? null : modelLabel(ref);
  }

  /** A model is on its way: a message sent now waits for it. */
  get waitReason(): 'load' | 'restart' | null {
    if (this.recovery !== null) return 'restart';
    return this.pending.size > 0 ? 'load' : null;
  }

  async load(ref: string): Promise<void> {
    const { engine, view } = this.input;
    const seq = ++this.loadSeq;
    this.pending.add(seq);
    view.update({ loading: startLoading(ref) });
    let model: ModelInfo;
    try {
      model = await engine.load(ref, { ...this.input.loadOptions(ref), offline: this.input.offline }, (progress) => {
        const loading = view.getState().loading;
        if (seq === this.loadSeq && loading) view.update({ loading: withProgress(loading, progress) });
      });
    } catch (error) {
      this.pending.delete(seq);
      if (seq === this.loadSeq) view.update({ loading: null });
      // A load superseded by a newer one fails quietly: the newer one speaks for the user.
      if (seq !== this.loadSeq) return;
      for (const line of loadFailureLines(ref, error, this.label, this.input.offline)) view.notice(line, 'error');
      this.input.onChange();
      if (this.waitReason === null) this.input.onFailed();
      return;
    }
    this.pending.delete(seq);
    this.refs.set(model.modelId, ref);
    if (seq === this.loadSeq) view.update({ loading: null });
    // A superseded load that finished is the model in use once every newer one has failed.
    const newerPending = [...this.pending].some((other) => other > seq);
    if (!newerPending && engine.model === model) this.input.onReady(ref, model, 'loaded');
    else this.input.onChange();
  }

  private crashed(message: string, reload: Promise<ModelInfo | null>): void {
    const { view } = this.input;
    this.recovery = reload;
    view.notice(`The model engine stopped unexpectedly: ${message}.`, 'warning');
    this.input.onChange();
    reload.then(
      (model) => {
        if (this.recovery !== reload) return;
        this.recovery = null;
        if (model === null) {
          this.input.onChange();
          if (this.waitReason === null) this.input.onFailed();
          return;
        }
        this.refs.set(model.modelId, this.refs.get(model.modelId) ?? model.modelId);
        this.input.onReady(this.refs.get(model.modelId)!, model, 'restarted');
      },
      (error: unknown) => {
        if (this.recovery !== reload) return;
        this.recovery = null;
        view.notice(`The engine could not load the model again: ${errorLine(error)}`, 'error');
        this.input.onChange();
        if (this.waitReason === null) this.input.onFailed();
      },
    );
  }
}
