// A small Fastify server standing in for an OpenAI-compatible server, as vLLM (its /tokenize
// counts messages through "its template") or llama.cpp's server (/tokenize takes only
// {content}) answer, recording every request so a test sees what went over the wire.
import Fastify, { type FastifyInstance } from 'fastify';

export interface Posted {
  route: string;
  body: Record<string, unknown>;
}

export interface Stub {
  app: FastifyInstance;
  url: string;
  posted: Posted[];
}

export const words = (text: string): number => text.split(/\s+/).filter((w) => w !== '').length;
/** "The template": a header and an end per message, and the cue for the reply. */
export const templateCount = (messages: { content: string }[]): number => messages.reduce((n, m) => n + words(m.content) + 4, 0) + 3;
const REPLY = ['Hello', ' from', ' the', ' stub'];

/** vLLM's /tokenize (`{model, prompt}` and `{model, messages}`), or llama.cpp's (`{content}` only). */
/** `baseModel`: no chat template, so chats and message counts get vLLM's 400. */
export async function startStub(
  tokenize: 'vllm' | 'llamacpp',
  contextLength: number,
  baseModel = false,
  replyTokens = REPLY,
): Promise<Stub> {
  const posted: Posted[] = [];
  const app = Fastify({ logger: false });
  app.addHook('preHandler', async (request) => {
    if (request.method === 'POST') posted.push({ route: request.url, body: request.body as Record<string, unknown> });
  });
  app.get('/v1/models', async () => ({
    object: 'list',
    data: [{ id: 'stub-instruct', object: 'model', created: 0, owned_by: 'x', max_model_len: contextLength }],
  }));
  const noTemplate = {
    error: {
      message:
        'As of transformers v4.44, default chat template is no longer allowed, so you must provide a chat template if the tokenizer does not define one.',
      type: 'BadRequestError',
      param: null,
      code: 400,
    },
  };
  app.post('/tokenize', async (request, reply) => {
    const body = request.body as { prompt?: string; content?: string; messages?: { content: string }[] };
    if (baseModel && body.messages) return reply.code(400).send(noTemplate);
    if (tokenize === 'llamacpp')
      return { tokens: body.content === undefined ? [] : Array.from({ length: words(body.content) }, (_, i) => i) };
    const count = body.messages ? templateCount(body.messages) : words(body.prompt ?? '');
    return { count, max_model_len: contextLength, tokens: Array.from({ length: count }, (_, i) => i) };
  });
  const sse = (chunks: unknown[]) => chunks.map((c) => `data: ${JSON.stringify(c)}\n\n`).join('') + 'data: [DONE]\n\n';
  app.post('/v1/chat/completions', async (_request, reply) => {
    if (baseModel) return reply.code(400).send(noTemplate);
    const base = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 0, model: 'stub-instruct' };
    const chunks = [
      { ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] },
      ...replyTokens.map((t) => ({ ...base, choices: [{ index: 0, delta: { content: t }, finish_reason: null }] })),
      { ...base, choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] },
      { ...base, choices: [], usage: { prompt_tokens: 42, completion_tokens: replyTokens.length, total_tokens: 42 + replyTokens.length } },
    ];
    return reply.type('text/event-stream').send(sse(chunks));
  });
  app.post('/v1/completions', async (_request, reply) => {
    const base = { id: 'cmpl-1', object: 'text_completion', created: 0, model: 'stub-instruct' };
    return reply.type('text/event-stream').send(sse([{ ...base, choices: [{ index: 0, text: ' raw', finish_reason: 'length' }] }]));
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  return { app, url: `http://127.0.0.1:${port}/v1`, posted };
}
