// The settings layer a saved session makes (see settingsPrecedence.ts for the order of layers).
import type { Settings } from '../settings/settingsSchema.js';
import type { Session } from './types.js';

/**
 * What a session contributes: the model and dtype it last used and the parameters set in
 * it. Its persona is part of its conversation, not a setting, so it is not a layer here.
 */
export function sessionLayer(session: Session | null): Partial<Settings> {
  if (session === null) return {};
  const layer: Partial<Settings> = { ...session.params };
  if (session.model !== null) layer.model = session.model;
  if (session.dtype !== null) layer.dtype = session.dtype;
  return layer;
}
