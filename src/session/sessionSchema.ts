// The on-disk form of a session (documented in sessions/README.md) and its validation.
// Pure: sessionStore.ts does the file I/O.
//
// Version policy: any change a version-1 reader would misread or drop bumps `version`.
// A reader refuses versions newer than its own rather than guess, and older versions are
// upgraded on load (there are none yet). Unknown fields are ignored.
import { DTYPES, type DoneReason, type Dtype, type SamplingParams } from '../engine/protocol.js';
import { SAMPLING_KEYS, settingValueError } from '../settings/settingsSchema.js';
import type { ReplyMeta, Role, Turn } from '../prompt/conversationTypes.js';
import type { Session } from './types.js';

export const SESSION_FORMAT = 'parley-session';
export const SESSION_VERSION = 1;

export interface SessionFileV1 {
  format: typeof SESSION_FORMAT;
  version: 1;
  createdAt: string;
  updatedAt: string;
  revision: number;
  model: string | null;
  dtype: Dtype | null;
  params: Partial<SamplingParams>;
  windowStart: string | null;
  persona: string | null;
  turns: Turn[];
}

export type ParsedSession =
  | { ok: true; session: Session }
  | { ok: false; kind: 'not-json' | 'invalid' | 'future-version'; error: string };

/** The file text for a session; the name is not stored, it is the file's name. */
export function serializeSession(session: Session): string {
  const file: SessionFileV1 = {
    format: SESSION_FORMAT,
    version: SESSION_VERSION,
    createdAt: session.createdAt,
    updatedAt: session.updatedAt,
    revision: session.revision,
    model: session.model,
    dtype: session.dtype,
    params: session.params,
    windowStart: session.windowStart ?? null,
    persona: session.conversation.persona,
    turns: session.conversation.turns,
  };
  return JSON.stringify(file, null, 2) + '\n';
}

/** Parses and validates file text; errors are one line and say what is wrong where. */
export function parseSession(text: string, name: string): ParsedSession {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (error) {
    return { ok: false, kind: 'not-json', error: `not valid JSON (${(error as Error).message})` };
  }
  if (!isRecord(data) || data.format !== SESSION_FORMAT) {
    return { ok: false, kind: 'invalid', error: `not a Parley session (no "format": "${SESSION_FORMAT}")` };
  }
  if (typeof data.version !== 'number' || !Number.isInteger(data.version) || data.version < 1) {
    return { ok: false, kind: 'invalid', error: '"version" must be a whole number from 1 up' };
  }
  if (data.version > SESSION_VERSION) {
    return {
      ok: false,
      kind: 'future-version',
      error: `written by a newer Parley (session format version ${data.version}; this Parley reads up to ${SESSION_VERSION}): upgrade Parley`,
    };
  }
  try {
    return { ok: true, session: readV1(data, name) };
  } catch (error) {
    if (error instanceof SchemaError) return { ok: false, kind: 'invalid', error: error.message };
    throw error;
  }
}

class SchemaError extends Error {}

function readV1(data: Record<string, unknown>, name: string): Session {
  const turnsValue = data.turns;
  if (!Array.isArray(turnsValue)) throw new SchemaError('"turns" must be a list');
  const turns = turnsValue.map((t, i) => readTurn(t, `turns[${i}]`));
  const ids = new Set<string>();
  turns.forEach((t, i) => {
    if (ids.has(t.id)) throw new SchemaError(`turns[${i}].id ${JSON.stringify(t.id)} is used twice`);
    ids.add(t.id);
  });
  const revision = data.revision;
  if (typeof revision !== 'number' || !Number.isInteger(revision) || revision < 0) {
    throw new SchemaError('"revision" must be a whole number from 0 up');
  }
  const session: Session = {
    name,
    createdAt: isoDate(data.createdAt, 'createdAt'),
    updatedAt: isoDate(data.updatedAt, 'updatedAt'),
    model: nullable<string>(data.model, 'model', (v) => typeof v === 'string' && v !== '', 'a model name'),
    dtype: nullable<Dtype>(data.dtype, 'dtype', isDtype, `one of ${DTYPES.join(', ')}`),
    params: readParams(data.params, 'params'),
    conversation: {
      persona: nullable<string>(data.persona, 'persona', (v) => typeof v === 'string', 'text'),
      turns,
    },
    revision,
  };
  const windowStart = data.windowStart === undefined ? null : nullable<string>(data.windowStart, 'windowStart', (v) => typeof v === 'string', 'a turn id');
  if (windowStart !== null) session.windowStart = windowStart;
  return session;
}

const ROLES: readonly Role[] = ['system', 'user', 'assistant'];
const REASONS: readonly DoneReason[] = ['eos', 'length', 'stop', 'cancelled', 'error'];

function readTurn(value: unknown, at: string): Turn {
  if (!isRecord(value)) throw new SchemaError(`${at} must be an object`);
  if (typeof value.id !== 'string' || value.id === '') throw new SchemaError(`${at}.id must be a non-empty string`);
  if (!ROLES.includes(value.role as Role)) throw new SchemaError(`${at}.role must be one of ${ROLES.join(', ')}`);
  if (typeof value.text !== 'string') throw new SchemaError(`${at}.text must be a string`);
  const turn: Turn = { id: value.id, role: value.role as Role, text: value.text, createdAt: isoDate(value.createdAt, `${at}.createdAt`) };
  if (value.meta !== undefined) turn.meta = readMeta(value.meta, `${at}.meta`);
  return turn;
}

function readMeta(value: unknown, at: string): ReplyMeta {
  if (!isRecord(value)) throw new SchemaError(`${at} must be an object`);
  const count = (key: string): number => {
    const v = value[key];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new SchemaError(`${at}.${key} must be a number from 0 up`);
    return v;
  };
  if (typeof value.model !== 'string') throw new SchemaError(`${at}.model must be a string`);
  if (!isDtype(value.dtype)) throw new SchemaError(`${at}.dtype must be one of ${DTYPES.join(', ')}`);
  if (!REASONS.includes(value.reason as DoneReason)) throw new SchemaError(`${at}.reason must be one of ${REASONS.join(', ')}`);
  if (typeof value.interrupted !== 'boolean') throw new SchemaError(`${at}.interrupted must be true or false`);
  const params = readParams(value.params, `${at}.params`);
  const missing = SAMPLING_KEYS.find((k) => !Object.hasOwn(params, k));
  if (missing !== undefined) throw new SchemaError(`${at}.params.${missing} is missing`);
  return {
    model: value.model,
    dtype: value.dtype,
    params: params as SamplingParams,
    promptTokens: count('promptTokens'),
    generatedTokens: count('generatedTokens'),
    tokensPerSecond: count('tokensPerSecond'),
    ttftMs: count('ttftMs'),
    reason: value.reason as DoneReason,
    interrupted: value.interrupted,
  };
}

function readParams(value: unknown, at: string): Partial<SamplingParams> {
  if (!isRecord(value)) throw new SchemaError(`${at} must be an object`);
  const params: Record<string, unknown> = {};
  for (const key of SAMPLING_KEYS) {
    if (value[key] === undefined) continue;
    const error = settingValueError(key, value[key]);
    if (error !== null) throw new SchemaError(`${at}.${error}`);
    params[key] = value[key];
  }
  return params as Partial<SamplingParams>;
}

function isoDate(value: unknown, at: string): string {
  if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) throw new SchemaError(`${at} must be a date (ISO 8601)`);
  return value;
}

function nullable<T>(value: unknown, at: string, check: (v: unknown) => boolean, what: string): T | null {
  if (value === null || value === undefined) return null;
  if (!check(value)) throw new SchemaError(`${at} must be ${what} or null`);
  return value as T;
}

function isDtype(value: unknown): value is Dtype {
  return (DTYPES as readonly unknown[]).includes(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
