// The on-disk form of a session (documented in sessions/README.md) and its validation.
// Pure: sessionStore.ts does the file I/O.
//
// Version policy: any change a version-1 reader would misread or drop bumps `version`.
// A reader refuses versions newer than its own rather than guess, and older versions are
// upgraded on load (there are none yet). Unknown fields are ignored.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { DTYPES } from '../engine/protocol.js';
import { DONE_REASONS, DtypeSchema, ROLES, ReplyMetaSchema, TurnSchema, type ReplyMeta, type Turn } from '../prompt/conversationTypes.js';
import { SAMPLING_KEYS, SamplingSchema, settingValueError } from '../settings/settingsSchema.js';
import type { Session } from './types.js';

export const SESSION_FORMAT = 'parley-session';
export const SESSION_VERSION = 1;

const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const SessionFileV1Schema = Type.Object({
  format: Type.Literal(SESSION_FORMAT),
  version: Type.Integer({ minimum: 1 }),
  createdAt: Type.String(),
  updatedAt: Type.String(),
  revision: Type.Integer({ minimum: 0 }),
  model: nullable(Type.String({ minLength: 1 })),
  dtype: nullable(DtypeSchema),
  params: Type.Partial(SamplingSchema),
  windowStart: nullable(Type.String()),
  persona: nullable(Type.String()),
  turns: Type.Array(TurnSchema),
});
export type SessionFileV1 = Static<typeof SessionFileV1Schema>;

export type ParsedSession = { ok: true; session: Session } | { ok: false; kind: 'not-json' | 'invalid' | 'future-version'; error: string };

/** The file text for a session; the name is not stored, it is the file's name. */
export function serializeSession(session: Session): string {
  return [...serializeSessionChunks(session)].join('');
}

/**
 * The same text as serializeSession, a turn at a time: a long session is written without
 * building its whole text (and that text's bytes) at once. Each piece is what
 * JSON.stringify(file, null, 2) writes there, so the two agree byte for byte.
 */
export function* serializeSessionChunks(session: Session): Generator<string> {
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
    turns: [],
  };
  const turns = session.conversation.turns;
  const head = JSON.stringify(file, null, 2);
  if (turns.length === 0) {
    yield head + '\n';
    return;
  }
  // `turns` is the last key: open its list where the empty one was written.
  yield head.slice(0, head.length - '[]\n}'.length) + '[';
  for (let i = 0; i < turns.length; i++) {
    yield (i === 0 ? '\n    ' : ',\n    ') + JSON.stringify(turns[i], null, 2).replaceAll('\n', '\n    ');
  }
  yield '\n  ]\n}\n';
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
  if (!Value.Check(FILE.version, data.version)) {
    return { ok: false, kind: 'invalid', error: '"version" must be a whole number from 1 up' };
  }
  if ((data.version as number) > SESSION_VERSION) {
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

const FILE = SessionFileV1Schema.properties;
const TURN = TurnSchema.properties;
const META = ReplyMetaSchema.properties;

/** `value` as its schema's type, or a SchemaError with the message the file's reader shows. */
function expect<T extends TSchema>(schema: T, value: unknown, message: string): Static<T> {
  if (!Value.Check(schema, value)) throw new SchemaError(message);
  return value as Static<T>;
}

function readV1(data: Record<string, unknown>, name: string): Session {
  const turnsValue = data.turns;
  if (!Array.isArray(turnsValue)) throw new SchemaError('"turns" must be a list');
  const turns = turnsValue.map((t: unknown, i) => readTurn(t, `turns[${i}]`));
  const ids = new Set<string>();
  turns.forEach((t, i) => {
    if (ids.has(t.id)) throw new SchemaError(`turns[${i}].id ${JSON.stringify(t.id)} is used twice`);
    ids.add(t.id);
  });
  const revision = expect(FILE.revision, data.revision, '"revision" must be a whole number from 0 up');
  const session: Session = {
    name,
    createdAt: isoDate(data.createdAt, 'createdAt'),
    updatedAt: isoDate(data.updatedAt, 'updatedAt'),
    model: orNull(FILE.model, data.model, 'model', 'a model name'),
    dtype: orNull(FILE.dtype, data.dtype, 'dtype', `one of ${DTYPES.join(', ')}`),
    params: readParams(data.params, 'params'),
    conversation: {
      persona: orNull(FILE.persona, data.persona, 'persona', 'text'),
      turns,
    },
    revision,
  };
  const windowStart = orNull(FILE.windowStart, data.windowStart, 'windowStart', 'a turn id');
  if (windowStart !== null) session.windowStart = windowStart;
  return session;
}

function readTurn(value: unknown, at: string): Turn {
  if (!isRecord(value)) throw new SchemaError(`${at} must be an object`);
  const turn: Turn = {
    id: expect(TURN.id, value.id, `${at}.id must be a non-empty string`),
    role: expect(TURN.role, value.role, `${at}.role must be one of ${ROLES.join(', ')}`),
    text: expect(TURN.text, value.text, `${at}.text must be a string`),
    createdAt: isoDate(value.createdAt, `${at}.createdAt`),
  };
  if (value.meta !== undefined) turn.meta = readMeta(value.meta, `${at}.meta`);
  return turn;
}

function readMeta(value: unknown, at: string): ReplyMeta {
  if (!isRecord(value)) throw new SchemaError(`${at} must be an object`);
  const count = (key: 'promptTokens' | 'generatedTokens' | 'tokensPerSecond' | 'ttftMs'): number =>
    expect(META[key], value[key], `${at}.${key} must be a number from 0 up`);
  const model = expect(META.model, value.model, `${at}.model must be a string`);
  const dtype = expect(META.dtype, value.dtype, `${at}.dtype must be one of ${DTYPES.join(', ')}`);
  const reason = expect(META.reason, value.reason, `${at}.reason must be one of ${DONE_REASONS.join(', ')}`);
  const interrupted = expect(META.interrupted, value.interrupted, `${at}.interrupted must be true or false`);
  const params = readParams(value.params, `${at}.params`);
  const missing = SAMPLING_KEYS.find((k) => !Object.hasOwn(params, k));
  if (missing !== undefined) throw new SchemaError(`${at}.params.${missing} is missing`);
  return {
    model,
    dtype,
    params: expect(META.params, params, `${at}.params must be an object`),
    promptTokens: count('promptTokens'),
    generatedTokens: count('generatedTokens'),
    tokensPerSecond: count('tokensPerSecond'),
    ttftMs: count('ttftMs'),
    reason,
    interrupted,
  };
}

function readParams(value: unknown, at: string): SessionFileV1['params'] {
  if (!isRecord(value)) throw new SchemaError(`${at} must be an object`);
  const params: Record<string, unknown> = {};
  for (const key of SAMPLING_KEYS) {
    if (value[key] === undefined) continue;
    const error = settingValueError(key, value[key]);
    if (error !== null) throw new SchemaError(`${at}.${error}`);
    params[key] = value[key];
  }
  return params as SessionFileV1['params'];
}

function isoDate(value: unknown, at: string): string {
  if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) throw new SchemaError(`${at} must be a date (ISO 8601)`);
  return value;
}

/** Null when absent or null, else `value` as its schema's type (or the error naming `at`). */
function orNull<T extends TSchema>(schema: T, value: unknown, at: string, what: string): Static<T> {
  if (value === null || value === undefined) return null as Static<T>;
  return expect(schema, value, `${at} must be ${what} or null`);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
