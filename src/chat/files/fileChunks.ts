// Cutting a file's text to a token budget: the first part that fits, or chunks that each fit.
// Token counts come from the model's tokenizer (`count`); the cut points are guessed from the
// text's characters per token, then checked, and moved back to a line end when one is near.
import type { CountTokens } from '../../prompt/tokenCountCache.js';

/** The most rounds of guess-and-count before a guess is halved outright. */
const MAX_ROUNDS = 8;

/** Where to cut `text` at most `length` characters in: a line end in the last fifth, else `length`. */
export function cutPoint(text: string, length: number): number {
  if (length >= text.length) return text.length;
  const lineEnd = text.lastIndexOf('\n', length - 1);
  return lineEnd >= Math.floor(length * 0.8) && lineEnd > 0 ? lineEnd + 1 : Math.max(1, length);
}

/**
 * The longest start of `text` (cut at a line end where one is near) whose tokens, as
 * `wrap(start)` makes them, are at most `budget`; '' when not even one character fits.
 * `total` is the token count of `wrap(text)`, which does not fit.
 */
export async function firstPartThatFits(
  text: string,
  budget: number,
  total: number,
  count: CountTokens,
  wrap: (part: string) => string = (part) => part,
): Promise<string> {
  if (budget <= 0 || text.length === 0) return '';
  let guess = Math.floor((text.length * budget) / Math.max(total, 1));
  for (let round = 0; round < MAX_ROUNDS && guess > 0; round++) {
    const part = text.slice(0, cutPoint(text, guess));
    const [tokens = Infinity] = await count([wrap(part)]);
    if (tokens <= budget) return part;
    // Scale by how far over it is, and a little more, so the next guess lands under.
    guess = Math.min(part.length - 1, Math.floor((part.length * budget) / tokens) - 1);
  }
  return '';
}

/**
 * `text` in consecutive chunks, each at most `budget` tokens as `wrap` makes it; throws when a
 * chunk cannot be made. The rest of the text is only counted whole once it may fit: counting
 * it at every step would tokenize a long file once per chunk.
 */
export async function chunksThatFit(
  text: string,
  budget: number,
  total: number,
  count: CountTokens,
  wrap: (part: string) => string = (part) => part,
): Promise<string[]> {
  const chunks: string[] = [];
  let rest = text;
  while (rest.length > 0) {
    const estimate = Math.max(1, Math.ceil((total * rest.length) / text.length));
    if (estimate <= budget * 2) {
      const [whole = Infinity] = await count([wrap(rest)]);
      if (whole <= budget) {
        chunks.push(rest);
        break;
      }
    }
    const part = await firstPartThatFits(rest, budget, estimate, count, wrap);
    if (part === '') throw new Error(`a part of ${budget} tokens cannot be made of the text`);
    chunks.push(part);
    rest = rest.slice(part.length);
  }
  return chunks;
}
