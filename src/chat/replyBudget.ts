// How long a reply may be on a given model. A default must not crowd out the prompt on a
// small model, and a value the user chose for a bigger one must not make every turn fail.
import type { SettingSource } from '../settings/settingsPrecedence.js';
import { checkMaxNewTokens } from '../settings/settingsSchema.js';

/** The share of the context a reply gets by default, at most. */
export const DEFAULT_REPLY_SHARE = 4;

export interface ReplyBudget {
  maxNewTokens: number;
  /** The user's value did not fit this model and was lowered. */
  lowered: boolean;
}

/** The reply length to use on a model with `contextLength` positions. */
export function replyBudget(maxNewTokens: number, source: SettingSource, contextLength: number): ReplyBudget {
  const share = Math.max(1, Math.floor(contextLength / DEFAULT_REPLY_SHARE));
  if (source === 'default') return { maxNewTokens: Math.min(maxNewTokens, share), lowered: false };
  // The model's own max_new_tokens is not the user's choice: one its context cannot hold is quietly made to fit.
  if (source === 'model')
    return { maxNewTokens: checkMaxNewTokens(maxNewTokens, contextLength) === null ? maxNewTokens : share, lowered: false };
  if (checkMaxNewTokens(maxNewTokens, contextLength) === null) return { maxNewTokens, lowered: false };
  return { maxNewTokens: share, lowered: true };
}
