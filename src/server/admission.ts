// Who may generate now: up to `slots` requests at once, then a FIFO queue of at most
// `maxQueue`; past that a request is refused with 429 and a Retry-After. A request that
// gives up while it waits (its client left) leaves the queue without a trace. Once the server
// is shutting down, the queue is answered with 503 and nothing new is admitted.
import { ApiError } from './apiError.js';

interface Waiter {
  grant(release: () => void): void;
  reject(error: Error): void;
}

export class Admission {
  private active = 0;
  private readonly waiting: Waiter[] = [];
  private closed: ApiError | null = null;

  constructor(
    readonly slots: number,
    readonly maxQueue: number,
  ) {
    if (!(slots >= 1)) throw new Error('at least one slot is needed');
  }

  get running(): number {
    return this.active;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Resolves with the slot's release function once it is this request's turn. */
  acquire(signal?: AbortSignal): Promise<() => void> {
    if (signal?.aborted) return Promise.reject(abortError());
    if (this.closed) return Promise.reject(this.closed);
    if (this.active < this.slots && this.waiting.length === 0) return Promise.resolve(this.take());
    if (this.waiting.length >= this.maxQueue) {
      const seconds = Math.max(1, Math.ceil((this.waiting.length + 1) / this.slots));
      return Promise.reject(
        new ApiError(
          429,
          `the server is busy: ${this.active} requests running and ${this.waiting.length} waiting; retry later`,
          'rate_limit_error',
          null,
          'queue_full',
          {
            'retry-after': String(seconds),
          },
        ),
      );
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        grant: (release) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(release);
        },
        reject,
      };
      const onAbort = (): void => {
        const at = this.waiting.indexOf(waiter);
        if (at !== -1) this.waiting.splice(at, 1);
        reject(abortError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(waiter);
    });
  }

  /** Refuses every waiting request and every later one with 503 and a Retry-After; running ones keep their slots. */
  close(retryAfterSeconds: number): void {
    this.closed = new ApiError(503, 'the server is shutting down; retry later', 'server_error', null, 'shutting_down', {
      'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))),
    });
    for (const waiter of this.waiting.splice(0)) waiter.reject(this.closed);
  }

  private take(): () => void {
    this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      const next = this.waiting.shift();
      if (next) next.grant(this.take());
    };
  }
}

function abortError(): Error {
  const error = new Error('the request was abandoned while it waited');
  error.name = 'AbortError';
  return error;
}
