import { openSettings } from '../session/settings.js';
import { HF_ENDPOINT_ENV, resolveHubEndpoint, type HubEndpoint } from './hubEndpoint.js';

/**
 * The hub in effect for this process: HF_ENDPOINT, else the settings file's `hubEndpoint`,
 * else huggingface.co. An unreadable settings file counts as unset here; the command that
 * opened it first has already reported it.
 */
export function currentHubEndpoint(env: Readonly<Record<string, string | undefined>> = process.env): HubEndpoint {
  let setting: string | null = null;
  if (!env[HF_ENDPOINT_ENV]?.trim()) {
    try {
      setting = openSettings({ env }).stored().hubEndpoint ?? null;
    } catch {
      setting = null;
    }
  }
  return resolveHubEndpoint({ env, setting });
}
