// What a request's log line says about it. Pure: the facts come from the response.

/** The path as it goes in a log line: query values left out (an API key sent as `?key=` stays out of the log), no control characters, bounded. */
export function loggedPath(url: string): string {
  const at = url.indexOf('?');
  const path = at === -1 ? url : url.slice(0, at);
  const names =
    at === -1
      ? ''
      : `?${url
          .slice(at + 1)
          .split('&')
          .map((pair) => `${pair.split('=')[0]}=…`)
          .join('&')}`;
  return printable(path + names).slice(0, 200);
}

/** A URL as it goes in a message: no control characters, bounded. */
export function printable(url: string): string {
  return url.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?').slice(0, 200);
}

export interface SentFacts {
  status: number;
  /** The whole response went out. */
  finished: boolean;
  /** Its status line and headers went out. */
  headersSent: boolean;
  /** The server answered 408 itself: the request did not arrive in time. */
  timedOut: boolean;
}

/** The status as the client got it: a reply cut short says so, and a request that got nothing is not logged as 200. */
export function sentStatus(facts: SentFacts): string {
  if (facts.timedOut) return '408 (request timed out)';
  if (facts.finished) return String(facts.status);
  return facts.headersSent ? `${facts.status} (client gone)` : 'no response (client gone)';
}
