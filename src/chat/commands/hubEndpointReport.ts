// The hub address as /settings shows it: the URL in effect and where it comes from
// (HF_ENDPOINT, the settings file, or the default), next to the other settings.
import { resolveHubEndpoint } from '../../hub/hubEndpoint.js';
import { errorMessage } from '../../errors.js';

export function withHubEndpoint(
  values: Readonly<Record<string, unknown>>,
  sources: Readonly<Record<string, string>>,
  env: Readonly<Record<string, string | undefined>>,
): { values: Record<string, unknown>; sources: Record<string, string> } {
  const setting = typeof values['hubEndpoint'] === 'string' ? values['hubEndpoint'] : null;
  try {
    const hub = resolveHubEndpoint({ env, setting });
    return {
      values: { ...values, hubEndpoint: hub.url },
      sources: { ...sources, hubEndpoint: hub.source === 'HF_ENDPOINT' ? 'HF_ENDPOINT' : (sources['hubEndpoint'] ?? 'default') },
    };
  } catch (err) {
    return { values: { ...values, hubEndpoint: errorMessage(err) }, sources: { ...sources, hubEndpoint: 'HF_ENDPOINT' } };
  }
}
