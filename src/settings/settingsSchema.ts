// What a setting may be: defaults, ranges, parsing of typed-in values and one-line errors.
// Pure; the conf store (settingsFile.ts), CLI flags, session files and slash commands all
// validate through here so a value means the same thing wherever it was set.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { DTYPES, type SamplingParams } from '../engine/protocol.js';
import { hubEndpointError, normaliseEndpoint } from '../hub/hubEndpoint.js';

const MAX_SEED = 2 ** 32 - 1;
const MAX_NAME_LENGTH = 32;
// Names end up in the transcript as "Name:"; a colon or line break inside would let a
// name forge or hide a turn boundary.
const FORBIDDEN_IN_NAME = /[\p{Cc}\p{Cf}:\u2028\u2029]/u;

const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const name = () => Type.String({ minLength: 1, maxLength: MAX_NAME_LENGTH });

/**
 * Each setting's type and bounds. The Settings type comes from these, conf validates the file
 * with them, and every check below starts from them.
 */
const SCHEMAS = {
  /** Model ref: alias, hub id or local folder. */
  model: Type.String({ minLength: 1, maxLength: 1000 }),
  dtype: Type.Union(DTYPES.map((dtype) => Type.Literal(dtype))),
  temperature: Type.Number({ minimum: 0, maximum: 2 }),
  topK: Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER }),
  topP: Type.Number({ minimum: 0, maximum: 1 }),
  repetitionPenalty: Type.Number({ exclusiveMinimum: 0, maximum: 10 }),
  maxNewTokens: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
  seed: nullable(Type.Integer({ minimum: 0, maximum: MAX_SEED })),
  /** Persona preset name or persona text; null for none. */
  persona: nullable(Type.String()),
  userName: name(),
  assistantName: name(),
  /** Absolute path; null means the platform data directory. */
  sessionsDir: nullable(Type.String()),
  /** Run GPT-2 exports on Parley's own graph converted from them (off: the export as it is). */
  convert: Type.Boolean(),
  /** The hub to download from (a mirror, a proxy); null means huggingface.co. HF_ENDPOINT beats it. */
  hubEndpoint: nullable(Type.String()),
  /** Replies shown as Markdown; null: on for models with a chat template, off for plain-text (GPT-2) ones. */
  markdown: nullable(Type.Boolean()),
};

export const SettingsSchema = Type.Object(SCHEMAS);
export type Settings = Static<typeof SettingsSchema>;
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
  markdown: null,
});

export const SETTING_KEYS = Object.keys(DEFAULT_SETTINGS) as SettingKey[];

export const SAMPLING_KEYS = [
  'temperature',
  'topK',
  'topP',
  'repetitionPenalty',
  'maxNewTokens',
  'seed',
] as const satisfies readonly (keyof SamplingParams & SettingKey)[];

/** The sampling parameters alone, as a reply's metadata records them. */
export const SamplingSchema = Type.Pick(SettingsSchema, SAMPLING_KEYS);

/** How a setting is typed in and explained, beside its schema. */
interface Spec<K extends SettingKey> {
  /** What the value must be, as shown in errors: "<key> must be …". */
  rule: string;
  parse: (raw: string) => unknown;
  /** What a JSON schema cannot say (a trimmed name without colons, an absolute path, a hub URL). */
  refine?: (value: Settings[K]) => boolean;
}

const parseNumber = (raw: string): unknown => {
  const trimmed = raw.trim();
  return trimmed === '' ? raw : Number(trimmed);
};

const number = (rule: string): Spec<SettingKey> => ({ rule, parse: parseNumber });

const NONE_WORDS = new Set(['none', 'null', 'off', 'random', '']);
const parseNullable =
  (parse: (raw: string) => unknown) =>
  (raw: string): unknown =>
    NONE_WORDS.has(raw.trim().toLowerCase()) ? null : parse(raw);
const parseDefaultable =
  (parse: (raw: string) => unknown) =>
  (raw: string): unknown =>
    ['none', 'null', 'default', ''].includes(raw.trim().toLowerCase()) ? null : parse(raw);

function parseOnOff(raw: string): unknown {
  const word = raw.trim().toLowerCase();
  return ['on', 'true', 'yes', '1'].includes(word) ? true : ['off', 'false', 'no', '0'].includes(word) ? false : raw;
}

const NAME_SPEC: Spec<'userName' | 'assistantName'> = {
  rule: `a name of 1 to ${MAX_NAME_LENGTH} characters without colons or control characters`,
  parse: (raw) => raw.trim(),
  refine: (v) => v.trim() === v && !FORBIDDEN_IN_NAME.test(v),
};

const SPECS: { [K in SettingKey]: Spec<K> } = {
  model: { rule: 'a model alias, hub id or folder', parse: (raw) => raw.trim(), refine: (v) => v.trim() !== '' },
  dtype: { rule: `one of ${DTYPES.join(', ')}`, parse: (raw) => raw.trim().toLowerCase() },
  temperature: number('a number from 0 to 2'),
  topK: number('a whole number from 0 (off) up'),
  topP: number('a number from 0 to 1'),
  repetitionPenalty: number('a number above 0 and at most 10 (1 is off)'),
  maxNewTokens: number('a whole number from 1 up, below the model\u2019s context length'),
  seed: { rule: `a whole number from 0 to ${MAX_SEED}, or "random"`, parse: parseNullable(parseNumber) },
  persona: {
    rule: 'a preset name or persona text, or "none"',
    parse: parseNullable((raw) => raw.trim()),
    refine: (v) => v === null || v.trim() !== '',
  },
  userName: NAME_SPEC,
  assistantName: NAME_SPEC,
  sessionsDir: {
    rule: 'an absolute path, or "none" for the default',
    parse: parseDefaultable((raw) => raw.trim()),
    refine: (v) => v === null || isAbsolutePath(v),
  },
  convert: { rule: 'on or off', parse: parseOnOff },
  hubEndpoint: {
    rule: 'an http or https URL, or "none" for huggingface.co',
    parse: parseDefaultable(normaliseEndpoint),
    refine: (v) => v === null || hubEndpointError(v) === null,
  },
  markdown: {
    rule: 'on, off or auto (on for models with a chat template)',
    parse: (raw) => (['auto', 'default', 'none', ''].includes(raw.trim().toLowerCase()) ? null : parseOnOff(raw)),
  },
};

/** JSON schema of the settings file, in the shape conf expects (one entry per key). */
export const SETTINGS_JSON_SCHEMA: { readonly [K in SettingKey]: TSchema } = SCHEMAS;

export type SettingResult = { [K in SettingKey]: { ok: true; key: K; value: Settings[K] } }[SettingKey] | { ok: false; error: string };

/** The setting a typed name refers to (case, dashes and underscores ignored), or null. */
export function settingKeyFor(name: string): SettingKey | null {
  const folded = name
    .trim()
    .toLowerCase()
    .replace(/[-_\s]/g, '');
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
export function settingValueError<K extends SettingKey>(key: K, value: unknown): string | null {
  const spec: Spec<K> = SPECS[key];
  const valid = Value.Check(SCHEMAS[key], value) && (spec.refine?.(value as Settings[K]) ?? true);
  return valid ? null : `${key} must be ${spec.rule}`;
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
