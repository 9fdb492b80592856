import { readFileSync } from 'node:fs';
import { configDir, settingsFilePath } from '../paths.js';
import { HF_ENDPOINT_ENV, hubEndpointError, resolveHubEndpoint, type HubEndpoint } from './hubEndpoint.js';

/**
 * The `hubEndpoint` value of the settings file, read directly rather than through conf:
 * conf brings in when-exit, which re-raises the first Ctrl+C it sees, and `parley pull`
 * needs that Ctrl+C to stop the download cleanly. It also lets the engine, which the
 * settings module stands above, read it. An unreadable file or a bad value (the rule is
 * the hubEndpoint setting's own) counts as unset here; the chat and one-shot paths report
 * the file through openSettings.
 */
function hubEndpointSetting(env: Readonly<Record<string, string | undefined>>): string | null {
  try {
    const parsed = JSON.parse(readFileSync(settingsFilePath(configDir(env)), 'utf8')) as { hubEndpoint?: unknown };
    const value = parsed.hubEndpoint;
    return typeof value === 'string' && hubEndpointError(value) === null ? value : null;
  } catch {
    return null;
  }
}

/** The hub in effect for this process: HF_ENDPOINT, else the settings file's `hubEndpoint`, else huggingface.co. */
export function currentHubEndpoint(env: Readonly<Record<string, string | undefined>> = process.env): HubEndpoint {
  return resolveHubEndpoint({ env, setting: env[HF_ENDPOINT_ENV]?.trim() ? null : hubEndpointSetting(env) });
}
