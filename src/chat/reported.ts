// Actions run off the key handler (a command, an answer): a failure becomes a one-line
// error notice, never an unhandled rejection.
import { errorLine } from '../errors.js';
import type { ViewStore } from './view/viewStore.js';

export function runReported(view: ViewStore, action: () => Promise<void> | void): void {
  void Promise.resolve()
    .then(action)
    .catch((error: unknown) => view.notice(errorLine(error), 'error'));
}
