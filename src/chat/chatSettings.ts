// The settings in effect in the chat: command-line flags, the session's own values, the
// settings file, the model's own defaults, Parley's; with the reply length fitted to the model in use.
import type { ModelInfo, SamplingParams } from '../engine/protocol.js';
import { effectiveSettings, modelLayer, type EffectiveSettings } from '../settings/settingsPrecedence.js';
import { sessionLayer } from '../session/sessionLayer.js';
import type { Settings } from '../settings/settingsSchema.js';
import type { Session } from '../session/types.js';
import { replyBudget, type ReplyBudget } from './replyBudget.js';

export class ChatSettings {
  private flags: Partial<Settings>;
  private stored: Partial<Settings>;

  constructor(flags: Partial<Settings>, stored: Partial<Settings>) {
    this.flags = { ...flags };
    this.stored = { ...stored };
  }

  /** As the layers say, with the defaults of `model` (if any) under the user's; the reply length not yet fitted. */
  layered(session: Session, model: ModelInfo | null = null): EffectiveSettings {
    return effectiveSettings({
      flags: this.flags,
      session: sessionLayer(session),
      settings: this.stored,
      model: modelLayer(model?.generationDefaults),
    });
  }

  /** In effect with `model`: its defaults, and the reply length fitted to it. */
  effective(session: Session, model: ModelInfo | null): EffectiveSettings {
    const settings = this.layered(session, model);
    if (!model) return settings;
    const { maxNewTokens } = this.replyBudget(session, model);
    return { ...settings, values: { ...settings.values, maxNewTokens } };
  }

  replyBudget(session: Session, model: ModelInfo): ReplyBudget {
    const { values, sources } = this.layered(session, model);
    return replyBudget(values.maxNewTokens, sources.maxNewTokens, model.contextLength);
  }

  /** A value chosen in the chat wins over the flag from now on (it lives in the session). */
  forgetFlag(key: keyof SamplingParams | 'markdown'): void {
    const flags = { ...this.flags };
    delete flags[key];
    this.flags = flags;
  }

  /** A value just written to the settings file. */
  setStored<K extends keyof Settings>(key: K, value: Settings[K]): void {
    this.stored = { ...this.stored, [key]: value };
  }
}
