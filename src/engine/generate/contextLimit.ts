/**
 * The engine is the last guard of the model's position limit: past n_positions onnxruntime
 * fails inside the position-embedding Gather. Returns the refusal sentence, or null if it fits.
 */
export function checkLimit(promptTokens: number, maxNewTokens: number, contextLength: number): string | null {
  if (promptTokens + maxNewTokens <= contextLength) return null;
  return `prompt of ${promptTokens} tokens + ${maxNewTokens} new tokens exceeds the model's context of ${contextLength} tokens`;
}

/**
 * The reply's length for a prompt of `promptTokens`: `maxNewTokens`, or with `fit` (see
 * GenerateParams.fitToContext) at most what the context leaves. Then checkLimit decides.
 */
export function replyTokens(promptTokens: number, maxNewTokens: number, contextLength: number, fit: boolean | undefined): number {
  return fit ? Math.max(1, Math.min(maxNewTokens, contextLength - promptTokens)) : maxNewTokens;
}
