// Model refs that name a model on an OpenAI-compatible server: `endpoint:NAME` (on the
// endpoint in use, from --endpoint) or `endpoint:NAME@URL`, the self-contained form a
// session records, so /load finds the same server again. Credentials never go in a ref.

export const ENDPOINT_PREFIX = 'endpoint:';

export interface EndpointRef {
  name: string;
  /** Null: the endpoint in use. */
  url: string | null;
}

export function isEndpointRef(ref: string): boolean {
  return ref.trim().startsWith(ENDPOINT_PREFIX);
}

export function parseEndpointRef(ref: string): EndpointRef {
  const body = ref.trim().slice(ENDPOINT_PREFIX.length);
  const at = body.search(/@https?:\/\//i);
  if (at === -1) return { name: body, url: null };
  return { name: body.slice(0, at), url: normaliseEndpointUrl(body.slice(at + 1)) };
}

export function endpointRef(name: string, url: string): string {
  return `${ENDPOINT_PREFIX}${name}@${normaliseEndpointUrl(url)}`;
}

/**
 * The base URL as the openai client wants it, with no user or password in it (a key goes
 * in --api-key or the environment, never in a file) and no trailing slash. Throws a
 * one-line Error for anything but http(s).
 */
export function normaliseEndpointUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new Error(`"${raw}" is not a URL (expected something like http://127.0.0.1:8080/v1)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error(`the endpoint must be an http or https URL (got "${raw}")`);
  url.username = '';
  url.password = '';
  url.hash = '';
  url.search = '';
  return url.toString().replace(/\/+$/, '');
}

/** A short label: `NAME@host:port`. */
export function endpointLabel(ref: string): string {
  const { name, url } = parseEndpointRef(ref);
  return url === null ? `${ENDPOINT_PREFIX}${name}` : `${name}@${new URL(url).host}`;
}
