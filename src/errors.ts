// What to say about anything thrown: an Error's message, or the value itself as text.

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Only the message's first line, for a sentence that shows it: engine and library errors
 * sometimes carry stack-like detail below it.
 */
export function errorLine(error: unknown): string {
  return errorMessage(error).split('\n')[0]?.trim() || 'unknown error';
}
