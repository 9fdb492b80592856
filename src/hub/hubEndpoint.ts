// Which hub Parley downloads from. HF_ENDPOINT is the hub's own convention (the Python tools
// honour it too), so a mirror configured for them works for Parley; the `hubEndpoint`
// setting keeps one in the settings file. Pure: callers pass the environment and the setting.

export const HF_ENDPOINT_ENV = 'HF_ENDPOINT';
export const DEFAULT_HUB_ENDPOINT = 'https://huggingface.co';

export type HubEndpointSource = 'HF_ENDPOINT' | 'settings' | 'default';

export interface HubEndpoint {
  /** Base URL without a trailing slash, e.g. `https://huggingface.co`. */
  url: string;
  source: HubEndpointSource;
}

/** Null when `raw` is a usable hub address (http or https URL), else why not. */
export function hubEndpointError(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    return `not a URL: "${raw}"`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `the hub address must be an http or https URL (got "${raw}")`;
  if (url.search !== '' || url.hash !== '') return `the hub address must not have a query or fragment (got "${raw}")`;
  return null;
}

export function normaliseEndpoint(raw: string): string {
  return raw.trim().replace(/\/+$/, '');
}

/** HF_ENDPOINT beats the setting, which beats the public hub (as PARLEY_SESSIONS_DIR beats `sessionsDir`). */
export function resolveHubEndpoint(input: {
  env: Readonly<Record<string, string | undefined>>;
  setting: string | null | undefined;
}): HubEndpoint {
  const fromEnv = input.env[HF_ENDPOINT_ENV]?.trim();
  if (fromEnv) {
    const error = hubEndpointError(fromEnv);
    if (error) throw new Error(`${HF_ENDPOINT_ENV}: ${error}`);
    return { url: normaliseEndpoint(fromEnv), source: 'HF_ENDPOINT' };
  }
  if (input.setting) return { url: normaliseEndpoint(input.setting), source: 'settings' };
  return { url: DEFAULT_HUB_ENDPOINT, source: 'default' };
}

const encodePath = (p: string): string => p.split('/').map(encodeURIComponent).join('/');

/** The hub's file URL: `{endpoint}/{owner}/{name}/resolve/{revision}/{path}`. */
export function hubFileUrl(endpoint: string, repoId: string, revision: string, file: string): string {
  return `${endpoint}/${encodePath(repoId)}/resolve/${encodeURIComponent(revision)}/${encodePath(file)}`;
}

/** The hub API's model description (with its file list, `siblings`); mirrors may not serve it. */
export function hubModelInfoUrl(endpoint: string, repoId: string, revision: string): string {
  return `${endpoint}/api/models/${encodePath(repoId)}/revision/${encodeURIComponent(revision)}`;
}
