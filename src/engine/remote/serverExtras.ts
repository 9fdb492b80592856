// What OpenAI's API does not say but vLLM's and llama.cpp's servers (and parley serve) do:
// POST /tokenize for exact token counts (vLLM's and parley serve's also of a chat's messages,
// through the model's chat template), and the context length (max_model_len in /v1/models,
// llama.cpp's n_ctx in GET /props). Plain fetch: these routes sit beside /v1.

/** Without the server's tokenizer a token is taken as 3 UTF-8 bytes: English BPE averages about 4, so counts err high by ~25 %. */
export const ESTIMATE_BYTES_PER_TOKEN = 3;

export function estimateTokens(text: string): number {
  return text === '' ? 0 : Math.ceil(Buffer.byteLength(text, 'utf8') / ESTIMATE_BYTES_PER_TOKEN);
}

/**
 * What the server's chat template adds to a window that Parley's own rendering (the plain
 * transcript) does not show: a header and an end marker per message (ChatML's
 * "<|im_start|>user\n…<|im_end|>\n", Llama 3's headers) and a preamble some templates put
 * first (Llama 3.1's dates, Qwen2.5's default system prompt). Counts of the rendered text
 * get this much on top when the server cannot count the messages itself.
 */
export const TEMPLATE_MARGIN = { fixed: 48, perMessage: 6 } as const;

export function templateMargin(messages: number): number {
  return TEMPLATE_MARGIN.fixed + TEMPLATE_MARGIN.perMessage * messages;
}

/** vLLM (and parley serve) take `{model, prompt}`; llama.cpp takes `{content}`. */
export type TokenizeStyle = 'vllm' | 'llamacpp';

export interface ServerAccess {
  /** The base URL without its trailing /v1: where /tokenize and /props live. */
  root: string;
  headers: Record<string, string>;
  timeoutMs: number;
}

export function serverRoot(baseUrl: string): string {
  return baseUrl.replace(/\/v1\/?$/, '');
}

async function postJson(access: ServerAccess, path: string, body: unknown): Promise<unknown> {
  const res = await fetch(access.root + path, {
    method: 'POST',
    headers: { ...access.headers, 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(access.timeoutMs),
  });
  if (!res.ok) throw new Error(`${path} answered ${res.status}`);
  return res.json();
}

function tokensOf(reply: unknown): number[] | null {
  const tokens = (reply as { tokens?: unknown } | null)?.tokens;
  if (!Array.isArray(tokens)) return null;
  // llama.cpp may answer pieces ({id, piece}) when asked; plain ids otherwise.
  return tokens.map((t: unknown) => (typeof t === 'number' ? t : Number((t as { id?: unknown }).id)));
}

export async function serverTokenize(access: ServerAccess, style: TokenizeStyle, model: string, text: string): Promise<number[]> {
  const reply = await postJson(access, '/tokenize', style === 'vllm' ? { model, prompt: text } : { content: text });
  const tokens = tokensOf(reply);
  if (!tokens) throw new Error('/tokenize answered without tokens');
  return tokens;
}

export interface ServerMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/**
 * The tokens `messages` take through the server's chat template, with the cue for the reply
 * (vLLM's `{model, messages}`, which parley serve takes too).
 */
export async function serverCountMessages(access: ServerAccess, model: string, messages: readonly ServerMessage[]): Promise<number> {
  const reply = (await postJson(access, '/tokenize', { model, messages })) as { count?: unknown } | null;
  if (typeof reply?.count === 'number') return reply.count;
  const tokens = tokensOf(reply);
  if (!tokens) throw new Error('/tokenize answered without tokens');
  return tokens.length;
}

/**
 * Which /tokenize the server speaks, or null when it has none. A server that ignores the
 * fields it does not know (llama.cpp answers `{"tokens":[]}` to vLLM's form) must not pass
 * for one that counts: "Hello" is at least one token.
 */
export async function probeTokenize(access: ServerAccess, model: string): Promise<TokenizeStyle | null> {
  for (const style of ['vllm', 'llamacpp'] as const) {
    try {
      if ((await serverTokenize(access, style, model, 'Hello')).length > 0) return style;
    } catch {
      // Not this one.
    }
  }
  return null;
}

/** Whether the server counts a chat's messages through its template (vLLM, parley serve). */
export async function probeMessageCounts(access: ServerAccess, model: string): Promise<boolean> {
  try {
    return (await serverCountMessages(access, model, [{ role: 'user', content: 'Hello' }])) > 0;
  } catch {
    return false;
  }
}

/** llama.cpp's context per slot, from GET /props; null when the server has no such route. */
export async function propsContextLength(access: ServerAccess): Promise<number | null> {
  try {
    const res = await fetch(`${access.root}/props`, { headers: access.headers, signal: AbortSignal.timeout(access.timeoutMs) });
    if (!res.ok) return null;
    const props = (await res.json()) as { default_generation_settings?: { n_ctx?: unknown } };
    const n = props.default_generation_settings?.n_ctx;
    return typeof n === 'number' && n > 0 ? n : null;
  } catch {
    return null;
  }
}
