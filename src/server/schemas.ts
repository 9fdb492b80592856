// The request bodies as TypeBox schemas: Fastify validates them (its own JSON-schema
// validator, so the error texts are ajv's) and the route handlers' body types come from
// them. Every body is closed (additionalProperties: false): a field Parley does not support
// is an error that names it, never silently ignored. Values a schema cannot express (n other
// than 1, a penalty other than 0) are checked in requestParams.ts.
import { Type, type Static, type TSchema } from '@sinclair/typebox';

const nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
// An optional field that may also be null, as OpenAI's clients send it.
const maybe = <T extends TSchema>(schema: T) => Type.Optional(nullable(schema));

const text = Type.String({ maxLength: 1_000_000 });

/** Sampling and length fields both endpoints share (OpenAI's names, plus vLLM's top_k and repetition_penalty). */
const samplingProperties = {
  model: Type.String({ maxLength: 1000 }),
  stream: maybe(Type.Boolean()),
  stream_options: maybe(Type.Object({ include_usage: Type.Optional(Type.Boolean()) }, { additionalProperties: false })),
  temperature: maybe(Type.Number({ minimum: 0, maximum: 2 })),
  top_p: maybe(Type.Number({ minimum: 0, maximum: 1 })),
  top_k: maybe(Type.Integer({ minimum: -1 })),
  repetition_penalty: maybe(Type.Number({ exclusiveMinimum: 0, maximum: 10 })),
  max_tokens: maybe(Type.Integer({ minimum: 1 })),
  seed: maybe(Type.Integer({ minimum: 0, maximum: 2 ** 32 - 1 })),
  stop: maybe(
    Type.Union([
      Type.String({ minLength: 1, maxLength: 200 }),
      Type.Array(Type.String({ minLength: 1, maxLength: 200 }), { maxItems: 16 }),
    ]),
  ),
  n: maybe(Type.Integer()),
  presence_penalty: maybe(Type.Number()),
  frequency_penalty: maybe(Type.Number()),
  /** An end-user id for the provider's abuse monitoring: meaningless here, harmless to accept. */
  user: Type.Optional(Type.String({ maxLength: 1000 })),
};

// `const` and `enum` written as the plain keywords (TypeBox's literals add a `type`, and its
// unions an `anyOf`), so a wrong value is reported as ajv has always worded it.
const contentPart = Type.Object({ type: Type.Unsafe<'text'>({ const: 'text' }), text }, { additionalProperties: false });

const chatMessage = Type.Object(
  {
    role: Type.Unsafe<'system' | 'developer' | 'user' | 'assistant'>({ enum: ['system', 'developer', 'user', 'assistant'] }),
    content: Type.Union([text, Type.Array(contentPart, { maxItems: 1000 })]),
    name: Type.Optional(Type.String({ maxLength: 200 })),
  },
  { additionalProperties: false },
);

const messages = Type.Array(chatMessage, { minItems: 1, maxItems: 10_000 });

export const chatCompletionBody = Type.Object(
  {
    ...samplingProperties,
    max_completion_tokens: maybe(Type.Integer({ minimum: 1 })),
    messages,
    logprobs: maybe(Type.Boolean()),
  },
  { additionalProperties: false },
);

export const completionBody = Type.Object(
  {
    ...samplingProperties,
    prompt: Type.Union([text, Type.Array(text, { minItems: 1, maxItems: 1000 })]),
    echo: maybe(Type.Boolean()),
    best_of: maybe(Type.Integer()),
    logprobs: Type.Optional(Type.Null()),
    suffix: Type.Optional(Type.Null()),
  },
  { additionalProperties: false },
);

/** vLLM's `{model, prompt}` and `{model, messages}`, and llama.cpp's `{content}`. */
export const tokenizeBody = Type.Object(
  {
    model: Type.Optional(Type.String({ maxLength: 1000 })),
    prompt: Type.Optional(text),
    content: Type.Optional(text),
    messages: Type.Optional(messages),
    add_special_tokens: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);

export type ChatMessage = Static<typeof chatMessage>;
export type ChatCompletionRequest = Static<typeof chatCompletionBody>;
export type CompletionRequest = Static<typeof completionBody>;
export type TokenizeRequest = Static<typeof tokenizeBody>;
