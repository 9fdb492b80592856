/**
 * The engine is the last guard of the model's position limit: past n_positions onnxruntime
 * fails inside the position-embedding Gather. Returns the refusal sentence, or null if it fits.
 */
export function checkLimit(promptTokens: number, maxNewTokens: number, contextLength: number): string | null {
  if (promptTokens + maxNewTokens <= contextLength) return null;
  return `prompt of ${promptTokens} tokens + ${maxNewTokens} new tokens exceeds the model's context of ${contextLength} tokens`;
}
