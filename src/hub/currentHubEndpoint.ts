import envPaths from 'env-paths';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { settingValueError } from '../settings/settingsSchema.js';
import { HF_ENDPOINT_ENV, resolveHubEndpoint, type HubEndpoint } from './hubEndpoint.js';

/**
 * The `hubEndpoint` value of the settings file, read directly rather than through conf:
 * conf brings in when-exit, which re-raises the first Ctrl+C it sees, and `parley pull`
 * needs that Ctrl+C to stop the download cleanly. An unreadable file or a bad value counts
 * as unset here; the chat and one-shot paths report the file through openSettings.
 */
function hubEndpointSetting(env: Readonly<Record<string, string | undefined>>): string | null {
  const dir = env['PARLEY_CONFIG_DIR'] || envPaths('parley', { suffix: '' }).config;
  try {
    const parsed = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as { hubEndpoint?: unknown };
    const value = parsed.hubEndpoint;
    return typeof value === 'string' && settingValueError('hubEndpoint', value) === null ? value : null;
  } catch {
    return null;
  }
}

/** The hub in effect for this process: HF_ENDPOINT, else the settings file's `hubEndpoint`, else huggingface.co. */
export function currentHubEndpoint(env: Readonly<Record<string, string | undefined>> = process.env): HubEndpoint {
  return resolveHubEndpoint({ env, setting: env[HF_ENDPOINT_ENV]?.trim() ? null : hubEndpointSetting(env) });
}
