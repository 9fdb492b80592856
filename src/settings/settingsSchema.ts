// What a setting may be: defaults, ranges, parsing of typed-in values and one-line errors.
// Pure; the conf store (settings.ts), CLI flags, session files and slash commands all
// validate through here so a value means the same thing wherever it was set.
import { DTYPES, type Dtype, type SamplingParams } from '../engine/protocol.js';
import { hubEndpointError, normaliseEndpoint } from '../hub/hubEndpoint.js';

export interface Settings extends SamplingParams {
  /** Model ref: alias, hub id or local folder. */
  model: string;
  dtype: Dtype;
  /** Persona preset name or persona text; null for none. */
  persona: string | null;
  userName: string;
  assistantName: string;
  /** Absolute path; null means the platform data directory. */
  sessionsDir: string | null;
  /** Run GPT-2 exports on Parley's own graph converted from them (off: the export as it is). */
  convert: boolean;
  /** The hub to download from (a mirror, a proxy); null means huggingface.co. HF_ENDPOINT beats it. */
  hubEndpoint: string | null;
}

export type SettingKey = keyof Settings;

export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze({
  model: 'gpt2',
  dtype: 'fp32',
  temperature: 0.8,
  topK: 50,
  topP: 0.95,
  repetitionPenalty: 1.1,
  maxNewTokens: 128,
  seed: null,
  persona: null,
  userName: 'User',
  assistantName: 'Assistant',
  sessionsDir: null,
  convert: true,
  hubEndpoint: null,
});

export const SETTING_KEYS = Object.keys(DEFAULT_SETTINGS) as SettingKey[];

export const SAMPLING_KEYS: readonly (keyof SamplingParams)[] = [
  'temperature',
  'topK',
  'topP',
  'repetitionPenalty',
  'maxNewTokens',
  'seed',
];

const MAX_SEED = 2 ** 32 - 1;
const MAX_NAME_LENGTH = 32;
// Names end up in the transcript as "Name:"; a colon or line break inside would let a
// name forge or hide a turn boundary.
const FORBIDDEN_IN_NAME = /[\p{Cc}\p{Cf}:\u2028\u2029]/u;

type Check = (value: unknown) => string | null;

interface Spec {
  /** What the value must be, as shown in errors: "<key> must be …". */
  rule: string;
  check: Check;
  parse: (raw: string) => unknown;
  /** JSON schema of the value, for conf. */
  schema: Record<string, unknown>;
}

const numberIn = (min: number, max: number, exclusiveMin = false): Check => (v) =>
  typeof v === 'number' && Number.isFinite(v) && (exclusiveMin ? v > min : v >= min) && v <= max ? null : 'range';

const integerIn = (min: number, max: number): Check => (v) =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? null : 'range';

const parseNumber = (raw: string): unknown => {
  const trimmed = raw.trim();
  return trimmed === '' ? raw : Number(trimmed);
};

/**
 * A number setting: its check and its JSON schema come from the same bounds. `max` defaults
 * to no bound (the largest safe integer); `exclusiveMin` excludes `min` itself.
 */
const numberSpec = (rule: string, range: { min: number; max?: number; integer?: boolean; exclusiveMin?: boolean }): Spec => {
  const { min, max, integer = false, exclusiveMin = false } = range;
  const upper = max ?? Number.MAX_SAFE_INTEGER;
  return {
    rule,
    check: integer ? integerIn(min, upper) : numberIn(min, upper, exclusiveMin),
    parse: parseNumber,
    schema: {
      type: integer ? 'integer' : 'number',
      ...(exclusiveMin ? { exclusiveMinimum: min } : { minimum: min }),
      ...(max === undefined ? {} : { maximum: max }),
    },
  };
};

const NONE_WORDS = new Set(['none', 'null', 'off', 'random', '']);
const parseNullable = (parse: (raw: string) => unknown) => (raw: string): unknown =>
  NONE_WORDS.has(raw.trim().toLowerCase()) ? null : parse(raw);

const checkName: Check = (v) =>
  typeof v === 'string' && v.trim() === v && v.length >= 1 && v.length <= MAX_NAME_LENGTH && !FORBIDDEN_IN_NAME.test(v)
    ? null
    : 'invalid';

const NAME_SPEC: Spec = {
  rule: `a name of 1 to ${MAX_NAME_LENGTH} characters without colons or control characters`,
  check: checkName,
  parse: (raw) => raw.trim(),
  schema: { type: 'string', minLength: 1, maxLength: MAX_NAME_LENGTH },
};

const SPECS: { [K in SettingKey]: Spec } = {
  model: {
    rule: 'a model alias, hub id or folder',
    check: (v) => (typeof v === 'string' && v.trim() !== '' && v.length <= 1000 ? null : 'invalid'),
    parse: (raw) => raw.trim(),
    schema: { type: 'string', minLength: 1 },
  },
  dtype: {
    rule: `one of ${DTYPES.join(', ')}`,
    check: (v) => ((DTYPES as readonly unknown[]).includes(v) ? null : 'invalid'),
    parse: (raw) => raw.trim().toLowerCase(),
    schema: { type: 'string', enum: [...DTYPES] },
  },
  temperature: numberSpec('a number from 0 to 2', { min: 0, max: 2 }),
  topK: numberSpec('a whole number from 0 (off) up', { min: 0, integer: true }),
  topP: numberSpec('a number from 0 to 1', { min: 0, max: 1 }),
  repetitionPenalty: numberSpec('a number above 0 and at most 10 (1 is off)', { min: 0, max: 10, exclusiveMin: true }),
  maxNewTokens: numberSpec('a whole number from 1 up, below the model\u2019s context length', { min: 1, integer: true }),
  seed: {
    rule: `a whole number from 0 to ${MAX_SEED}, or "random"`,
    check: (v) => (v === null ? null : integerIn(0, MAX_SEED)(v)),
    parse: parseNullable(parseNumber),
    schema: { type: ['integer', 'null'], minimum: 0, maximum: MAX_SEED },
  },
  persona: {
    rule: 'a preset name or persona text, or "none"',
    check: (v) => (v === null || (typeof v === 'string' && v.trim() !== '') ? null : 'invalid'),
    parse: parseNullable((raw) => raw.trim()),
    schema: { type: ['string', 'null'] },
  },
  userName: NAME_SPEC,
  assistantName: NAME_SPEC,
  sessionsDir: {
    rule: 'an absolute path, or "none" for the default',
    check: (v) => (v === null || (typeof v === 'string' && isAbsolutePath(v)) ? null : 'invalid'),
    parse: (raw) => (['none', 'null', 'default', ''].includes(raw.trim().toLowerCase()) ? null : raw.trim()),
    schema: { type: ['string', 'null'] },
  },
  convert: {
    rule: 'on or off',
    check: (v) => (typeof v === 'boolean' ? null : 'invalid'),
    parse: (raw) => {
      const word = raw.trim().toLowerCase();
      return ['on', 'true', 'yes', '1'].includes(word) ? true : ['off', 'false', 'no', '0'].includes(word) ? false : raw;
    },
    schema: { type: 'boolean' },
  },
  hubEndpoint: {
    rule: 'an http or https URL, or "none" for huggingface.co',
    check: (v) => (v === null || (typeof v === 'string' && hubEndpointError(v) === null) ? null : 'invalid'),
    parse: (raw) => (['none', 'null', 'default', ''].includes(raw.trim().toLowerCase()) ? null : normaliseEndpoint(raw)),
    schema: { type: ['string', 'null'] },
  },
};

/** JSON schema of the settings file, in the shape conf expects (one entry per key). */
export const SETTINGS_JSON_SCHEMA: { [K in SettingKey]: Record<string, unknown> } = Object.fromEntries(
  SETTING_KEYS.map((k) => [k, SPECS[k].schema]),
) as { [K in SettingKey]: Record<string, unknown> };

export type SettingResult =
  | { [K in SettingKey]: { ok: true; key: K; value: Settings[K] } }[SettingKey]
  | { ok: false; error: string };

/** The setting a typed name refers to (case, dashes and underscores ignored), or null. */
export function settingKeyFor(name: string): SettingKey | null {
  const folded = name.trim().toLowerCase().replace(/[-_\s]/g, '');
  return SETTING_KEYS.find((k) => k.toLowerCase() === folded) ?? null;
}

/**
 * Parses and checks a typed-in value, e.g. validateSetting('temperature', '0.7').
 * The error is one line, ready to show: `temperature must be a number from 0 to 2 (got "5")`.
 */
export function validateSetting(name: string, raw: string): SettingResult {
  const key = settingKeyFor(name);
  if (key === null) return { ok: false, error: `unknown setting "${name}" (known: ${SETTING_KEYS.join(', ')})` };
  const value = SPECS[key].parse(raw);
  const error = settingValueError(key, value);
  if (error !== null) return { ok: false, error: `${error} (got ${JSON.stringify(raw)})` };
  return { ok: true, key, value } as SettingResult;
}

/** Null when `value` is valid for `key`, else the one-line error. */
export function settingValueError(key: SettingKey, value: unknown): string | null {
  return SPECS[key].check(value) === null ? null : `${key} must be ${SPECS[key].rule}`;
}

/**
 * Checks a whole object of settings (a settings file, a session's params): returns the
 * valid known entries and one error per invalid entry. Unknown keys are ignored.
 */
export function checkSettings(input: Record<string, unknown>): { values: Partial<Settings>; errors: string[] } {
  const values: Record<string, unknown> = {};
  const errors: string[] = [];
  for (const key of SETTING_KEYS) {
    if (!Object.hasOwn(input, key) || input[key] === undefined) continue;
    const error = settingValueError(key, input[key]);
    if (error === null) values[key] = input[key];
    else errors.push(`${error} (found ${JSON.stringify(input[key])})`);
  }
  return { values: values as Partial<Settings>, errors };
}

/**
 * The rule that needs the model: the reply must leave room for a prompt.
 * Null when fine, else the one-line error.
 */
export function checkMaxNewTokens(maxNewTokens: number, contextLength: number): string | null {
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1) return `maxNewTokens must be a whole number from 1 up (got ${maxNewTokens})`;
  if (maxNewTokens >= contextLength) {
    return `maxNewTokens (${maxNewTokens}) must be below the model's context length (${contextLength}) to leave room for the prompt`;
  }
  return null;
}

function isAbsolutePath(p: string): boolean {
  // Both conventions: settings files may be shared between systems.
  return p.startsWith('/') || /^[A-Za-z]:[\\/]/.test(p) || p.startsWith('\\\\');
}
