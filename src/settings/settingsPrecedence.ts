// Which value of each setting is in effect, and why: CLI flags > the session's own saved
// parameters > the settings file > defaults. One pure function, so `/settings` can show
// the source of every value and nothing else decides precedence on its own.
import type { SamplingParams } from '../engine/protocol.js';
import { DEFAULT_SETTINGS, SETTING_KEYS, type SettingKey, type Settings } from './settingsSchema.js';

export type SettingSource = 'flag' | 'session' | 'settings' | 'default';

export interface SettingLayers {
  flags?: Partial<Settings>;
  session?: Partial<Settings>;
  settings?: Partial<Settings>;
  defaults?: Readonly<Settings>;
}

export interface EffectiveSettings {
  values: Settings;
  sources: { [K in SettingKey]: SettingSource };
}

const ORDER = ['flags', 'session', 'settings'] as const;
const SOURCE_OF: Record<(typeof ORDER)[number], SettingSource> = { flags: 'flag', session: 'session', settings: 'settings' };

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

export function samplingParams(values: Settings): SamplingParams {
  const { temperature, topK, topP, repetitionPenalty, maxNewTokens, seed } = values;
  return { temperature, topK, topP, repetitionPenalty, maxNewTokens, seed };
}
