// What OpenAI's API does not say but vLLM's and llama.cpp's servers (and parley serve) do:
// POST /tokenize for exact token counts, and the context length (max_model_len in
// /v1/models, llama.cpp's n_ctx in GET /props). Plain fetch: these routes sit beside /v1.

/** Without the server's tokenizer a token is taken as 3 UTF-8 bytes: English BPE averages about 4, so counts err high by ~25 %. */
export const ESTIMATE_BYTES_PER_TOKEN = 3;

export function estimateTokens(text: string): number {
  return text === '' ? 0 : Math.ceil(Buffer.byteLength(text, 'utf8') / ESTIMATE_BYTES_PER_TOKEN);
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

/** Which /tokenize the server speaks, or null when it has none. */
export async function probeTokenize(access: ServerAccess, model: string): Promise<TokenizeStyle | null> {
  for (const style of ['vllm', 'llamacpp'] as const) {
    try {
      await serverTokenize(access, style, model, 'Hello');
      return style;
    } catch {
      // Not this one.
    }
  }
  return null;
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
