export type HubErrorCode =
  /** The hub answered 404 (or 401, as it does for repositories that do not exist). */
  | 'not-found'
  /** No answer, a refused connection, a stalled or cut transfer. */
  | 'network'
  /** The disk (or a file size limit) would not take the file. */
  | 'disk-full'
  /** Another HTTP status. */
  | 'http'
  /** The cache is not writable. */
  | 'permission'
  /** Offline and a file is not in the cache. */
  | 'not-cached'
  | 'cancelled';
import { errorMessage } from '../errors.js';

/** A download failure the user can act on; `message` is one sentence. */
export class HubError extends Error {
  constructor(
    readonly code: HubErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'HubError';
  }
}

/** The HubError for a failed file-system write while saving `what`. */
export function writeError(err: unknown, what: string, dir: string): HubError {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    return new HubError('disk-full', `cannot save ${what}: the disk holding ${dir} is full (nothing partial was kept)`);
  }
  if (code === 'EFBIG') {
    return new HubError('disk-full', `cannot save ${what}: the file would exceed the file size limit (nothing partial was kept)`);
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new HubError('permission', `cannot save ${what}: ${dir} is not writable`);
  }
  return new HubError('http', `cannot save ${what}: ${errorMessage(err)}`);
}

/** Connection errors that mean no hub answers at that address (as opposed to a broken transfer). */
const UNREACHABLE = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNREFUSED',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ETIMEDOUT',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * The HubError for a request that got no answer: for a hub that cannot be reached at all, one
 * sentence naming the address and the two ways on (a mirror, or what is already cached).
 */
export function connectionError(url: string, what: string, code: string | undefined, detail: string): HubError {
  if (code !== undefined && UNREACHABLE.has(code)) {
    const origin = new URL(url).origin;
    return new HubError(
      'network',
      `the hub at ${origin} is unreachable (${code}) while downloading ${what}: set HF_ENDPOINT (or the hubEndpoint setting) to a mirror that can be reached, or use --offline to run what is already in the model cache`,
    );
  }
  return new HubError('network', `download of ${what} failed: ${detail}`);
}
