// POST /tokenize (vLLM's and llama.cpp's): the token ids of a text, or of chat messages as
// /v1/chat/completions prompts them. Counting is real work in the one tokenizer thread every
// request shares, so it is admitted like a generation (a slot of its own, a bounded queue, 429
// past it, shown in /health) and a text that cannot fit the context is refused unread.
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { FastifyInstance } from 'fastify';
import { badRequest } from './apiError.js';
import { chatPrompt } from './chatPrompt.js';
import { checkModel, clientGone, withSlot, type ServeContext } from './completionRoutes.js';
import { refuseUnfittable } from './requestParams.js';
import { tokenizeBody } from './schemas.js';

export function registerTokenizeRoute(server: FastifyInstance, ctx: ServeContext): void {
  server.withTypeProvider<TypeBoxTypeProvider>().post('/tokenize', { schema: { body: tokenizeBody } }, async (request, reply) => {
    const { body } = request;
    const { contextLength, maxTokenBytes } = ctx.model.info;
    if (body.model !== undefined) checkModel(ctx.model, body.model);
    const given = [body.prompt, body.content, body.messages].filter((x) => x !== undefined).length;
    if (given > 1) throw badRequest('send one of "prompt", "content" or "messages"', 'messages');
    // Messages count as /v1/chat/completions prompts them: through the same format, cue included.
    const text = body.messages ? chatPrompt(ctx.model.format, body.messages) : (body.prompt ?? body.content);
    if (text === undefined) throw badRequest('send what to count as "prompt" (or "content"), or a chat as "messages"', 'prompt');
    refuseUnfittable(text, contextLength, maxTokenBytes, body.messages ? 'messages' : 'prompt');
    const [ids = []] = await withSlot(ctx.tokenizing, clientGone(reply).signal, () => ctx.engine.tokenize([text]));
    return { count: ids.length, max_model_len: contextLength, tokens: ids };
  });
}
