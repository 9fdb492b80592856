// JSON schemas of the request bodies, for Fastify's validator. Every body is closed
// (additionalProperties: false): a field Parley does not support is an error that names it,
// never silently ignored. Values a schema cannot express (n other than 1, a penalty other
// than 0) are checked in requestParams.ts.

const nullable = <T extends Record<string, unknown>>(schema: T): Record<string, unknown> => ({
  anyOf: [schema, { type: 'null' }],
});

const text = { type: 'string', maxLength: 1_000_000 } as const;

/** Sampling and length fields both endpoints share (OpenAI's names, plus vLLM's top_k and repetition_penalty). */
const samplingProperties = {
  model: { type: 'string', maxLength: 1000 },
  stream: nullable({ type: 'boolean' }),
  stream_options: nullable({
    type: 'object',
    additionalProperties: false,
    properties: { include_usage: { type: 'boolean' } },
  }),
  temperature: nullable({ type: 'number', minimum: 0, maximum: 2 }),
  top_p: nullable({ type: 'number', minimum: 0, maximum: 1 }),
  top_k: nullable({ type: 'integer', minimum: -1 }),
  repetition_penalty: nullable({ type: 'number', exclusiveMinimum: 0, maximum: 10 }),
  max_tokens: nullable({ type: 'integer', minimum: 1 }),
  seed: nullable({ type: 'integer', minimum: 0, maximum: 2 ** 32 - 1 }),
  stop: nullable({
    anyOf: [
      { type: 'string', minLength: 1, maxLength: 200 },
      { type: 'array', maxItems: 16, items: { type: 'string', minLength: 1, maxLength: 200 } },
    ],
  }),
  n: nullable({ type: 'integer' }),
  presence_penalty: nullable({ type: 'number' }),
  frequency_penalty: nullable({ type: 'number' }),
  /** An end-user id for the provider's abuse monitoring: meaningless here, harmless to accept. */
  user: { type: 'string', maxLength: 1000 },
} as const;

const contentPart = {
  type: 'object',
  required: ['type', 'text'],
  additionalProperties: false,
  properties: { type: { const: 'text' }, text },
} as const;

const messages = {
  type: 'array',
  minItems: 1,
  maxItems: 10_000,
  items: {
    type: 'object',
    required: ['role', 'content'],
    additionalProperties: false,
    properties: {
      role: { enum: ['system', 'developer', 'user', 'assistant'] },
      content: { anyOf: [text, { type: 'array', maxItems: 1000, items: contentPart }] },
      name: { type: 'string', maxLength: 200 },
    },
  },
} as const;

export const chatCompletionBody = {
  type: 'object',
  required: ['model', 'messages'],
  additionalProperties: false,
  properties: {
    ...samplingProperties,
    max_completion_tokens: nullable({ type: 'integer', minimum: 1 }),
    messages,
    logprobs: nullable({ type: 'boolean' }),
  },
} as const;

export const completionBody = {
  type: 'object',
  required: ['model', 'prompt'],
  additionalProperties: false,
  properties: {
    ...samplingProperties,
    prompt: { anyOf: [text, { type: 'array', minItems: 1, maxItems: 1000, items: text }] },
    echo: nullable({ type: 'boolean' }),
    best_of: nullable({ type: 'integer' }),
    logprobs: { type: 'null' },
    suffix: { type: 'null' },
  },
} as const;

/** vLLM's `{model, prompt}` and `{model, messages}`, and llama.cpp's `{content}`. */
export const tokenizeBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    model: { type: 'string', maxLength: 1000 },
    prompt: text,
    content: text,
    messages,
    add_special_tokens: { type: 'boolean' },
  },
} as const;
