// A conversation's turns and what is known of each reply, as TypeBox schemas: the types come
// from them, and the session file is checked against the same definitions.
import { Type, type Static } from '@sinclair/typebox';
import { DTYPES, type DoneReason } from '../engine/protocol.js';
import { SamplingSchema } from '../settings/settingsSchema.js';

const oneOf = <T extends string>(values: readonly T[]) => Type.Union(values.map((value) => Type.Literal(value)));
const count = () => Type.Number({ minimum: 0 });

export const ROLES = ['system', 'user', 'assistant'] as const;
export const DONE_REASONS: readonly DoneReason[] = ['eos', 'length', 'stop', 'cancelled', 'error'];
export const DtypeSchema = oneOf(DTYPES);

export const RoleSchema = oneOf(ROLES);
export type Role = Static<typeof RoleSchema>;

export const ReplyMetaSchema = Type.Object({
  model: Type.String(),
  dtype: DtypeSchema,
  params: SamplingSchema,
  promptTokens: count(),
  generatedTokens: count(),
  tokensPerSecond: count(),
  ttftMs: count(),
  reason: oneOf(DONE_REASONS),
  /** The user stopped the reply; the partial text is kept. */
  interrupted: Type.Boolean(),
});
export type ReplyMeta = Static<typeof ReplyMetaSchema>;

export const TurnSchema = Type.Object({
  id: Type.String({ minLength: 1 }),
  role: RoleSchema,
  text: Type.String(),
  /** ISO 8601. */
  createdAt: Type.String(),
  meta: Type.Optional(ReplyMetaSchema),
});
export type Turn = Static<typeof TurnSchema>;

/** Conversation state; persona lives apart from the turns so it is always in the window. */
export interface Conversation {
  persona: string | null;
  turns: Turn[];
}
