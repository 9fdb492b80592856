// The streamed chunks of OpenAI's two generation routes, /v1/completions (`text`) and
// /v1/chat/completions (`delta.content`), as one kind of piece, so the remote engine reads
// either stream with the same loop.
import OpenAI, { APIError } from 'openai';

export interface Piece {
  text: string;
  finish: string | null;
  usage: { prompt_tokens: number; completion_tokens: number } | null;
}

/** vLLM's 400 for a model without a chat template ("…you must provide a chat template…"). */
export function lacksChatTemplate(error: unknown): boolean {
  if (!(error instanceof APIError) || error.status !== 400) return false;
  const detail = (error.error as { message?: unknown } | undefined)?.message;
  return /chat.?template/i.test(typeof detail === 'string' ? detail : error.message);
}

export async function* textPieces(stream: AsyncIterable<OpenAI.Completions.Completion>): AsyncGenerator<Piece> {
  for await (const chunk of stream) {
    const choice = chunk.choices[0];
    yield { text: choice?.text ?? '', finish: choice?.finish_reason ?? null, usage: chunk.usage ?? null };
  }
}

export async function* chatPieces(stream: AsyncIterable<OpenAI.Chat.ChatCompletionChunk>): AsyncGenerator<Piece> {
  for await (const chunk of stream) {
    const choice = chunk.choices[0];
    yield { text: choice?.delta?.content ?? '', finish: choice?.finish_reason ?? null, usage: chunk.usage ?? null };
  }
}
