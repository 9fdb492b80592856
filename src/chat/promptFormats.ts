// The prompt format of the model in use, guarded: a chat template that fails is reported
// once, and that model's prompts use the transcript format from then on.
import type { EngineClient } from '../engine/engineClient.js';
import { formatFor, transcriptFormat, type FormatOptions, type PromptFormat, type SpeakerNames } from '../prompt/promptFormat.js';
import { errorLine } from '../errors.js';
import type { NoticeTone } from './view/transcriptItems.js';
import { guardedFormat } from './formatGuard.js';

export class PromptFormats {
  /** Models whose chat template failed. */
  private readonly broken = new Set<string>();

  constructor(
    private readonly engine: EngineClient,
    private readonly notice: (text: string, tone?: NoticeTone) => void,
  ) {}

  /** The format for the model in use, or null when none is loaded. */
  current(names: SpeakerNames, options: FormatOptions = {}): PromptFormat | null {
    const model = this.engine.model;
    if (!model) return null;
    const transcript = (): PromptFormat => transcriptFormat(names, model.bosToken ?? '');
    if (this.broken.has(model.modelId)) return transcript();
    return guardedFormat(
      () => formatFor(model, names, options),
      transcript,
      (error) => {
        if (this.broken.has(model.modelId)) return;
        this.broken.add(model.modelId);
        this.notice(
          `The model's chat template failed (${errorLine(error)}); its prompts use the plain transcript format instead.`,
          'warning',
        );
      },
    );
  }
}
