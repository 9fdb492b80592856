// The decode benchmark's workload, shared with the peak-RSS child (which must not load
// onnxruntime on its main thread, as the decode benchmark's module does).
import type { GenerateParams } from '../src/engine/protocol.js';

export const PROMPT_LENGTHS = [16, 512, 896] as const;
export const NEW_TOKENS = 128;

/** Greedy, and always NEW_TOKENS long: random weights may otherwise pick <|endoftext|> early. */
export const GREEDY_FULL_LENGTH: GenerateParams = {
  temperature: 0,
  topK: 0,
  topP: 1,
  repetitionPenalty: 1,
  seed: 1,
  maxNewTokens: NEW_TOKENS,
  minNewTokens: NEW_TOKENS,
};

/** A prompt of exactly `n` GPT-2 tokens: " hello" is one token. */
export const helloPrompt = (n: number): string => 'hello' + ' hello'.repeat(n - 1);
