// Which value of each setting is in effect, and why: CLI flags > the session's own saved
// parameters > the settings file > the model's own defaults
// (generation_config.json) > Parley's defaults. One pure function, so `/settings` can show
// the source of every value and nothing else decides precedence on its own.
import type { GenerationDefaults, SamplingParams } from '../engine/protocol.js';
import { DEFAULT_SETTINGS, SETTING_KEYS, settingValueError, type SettingKey, type Settings } from './settingsSchema.js';

export type SettingSource = 'flag' | 'session' | 'settings' | 'model' | 'default';

export interface SettingLayers {
  flags?: Partial<Settings>;
  session?: Partial<Settings>;
  settings?: Partial<Settings>;
  /** What the model in use asks for (generation_config.json's sampling values). */
  model?: Partial<Settings>;
  defaults?: Readonly<Settings>;
}

export interface EffectiveSettings {
  values: Settings;
  sources: { [K in SettingKey]: SettingSource };
}

const ORDER = ['flags', 'session', 'settings', 'model'] as const;
const SOURCE_OF: Record<(typeof ORDER)[number], SettingSource> = {
  flags: 'flag',
  session: 'session',
  settings: 'settings',
  model: 'model',
};

/** `undefined` means "not set in this layer"; null is a value (e.g. seed: null = random). */
export function effectiveSettings(layers: SettingLayers): EffectiveSettings {
  const values: Record<string, unknown> = {};
  const sources: Record<string, SettingSource> = {};
  for (const key of SETTING_KEYS) {
    const layer = ORDER.find((name) => layers[name]?.[key] !== undefined);
    values[key] = layer === undefined ? (layers.defaults ?? DEFAULT_SETTINGS)[key] : layers[layer]?.[key];
    sources[key] = layer === undefined ? 'default' : SOURCE_OF[layer];
  }
  return { values: values as unknown as Settings, sources: sources as EffectiveSettings['sources'] };
}

/** A model's generation defaults as a settings layer: only what the model says, and valid. */
export function modelLayer(defaults: GenerationDefaults | undefined): Partial<Settings> {
  const layer: Partial<Settings> = {};
  for (const key of ['temperature', 'topK', 'topP', 'repetitionPenalty', 'maxNewTokens'] as const) {
    const value = defaults?.[key];
    if (value !== undefined && settingValueError(key, value) === null) layer[key] = value;
  }
  return layer;
}

export function samplingParams(values: Settings): SamplingParams {
  const { temperature, topK, topP, repetitionPenalty, maxNewTokens, seed } = values;
  return { temperature, topK, topP, repetitionPenalty, maxNewTokens, seed };
}
