// Who may talk to the server from a browser. A web page can reach a server on 127.0.0.1 by
// DNS rebinding (its own name re-pointed at 127.0.0.1: the browser sends `Host: evil.example`)
// or by a cross-origin request (the browser sends its `Origin`). Both are refused unless the
// user allowed them, as ollama does with OLLAMA_ORIGINS. Clients that are not browsers send
// no Origin and the Host they were given, so nothing changes for them. Pure: no HTTP.

/** Loopback addresses: binding anywhere else without a key exposes the model to the network. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** Binding these listens on every interface: the names clients use cannot be known. */
const WILDCARDS = new Set(['0.0.0.0', '::', '']);

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

/** The host as a Host header writes it: an IPv6 address in brackets, lower case. */
const hostForm = (host: string): string => (host.includes(':') && !host.startsWith('[') ? `[${host}]` : host).toLowerCase();

/** `name:port` or `[v6]:port` → the name without its port. */
function hostName(header: string): string {
  const h = header.trim().toLowerCase();
  if (h.startsWith('[')) return h.slice(0, h.indexOf(']') + 1);
  const colon = h.indexOf(':');
  return colon === -1 ? h : h.slice(0, colon);
}

/** `--allowed-origins` and $PARLEY_ALLOWED_ORIGINS: comma-separated origins, or `*` for any. */
export function parseAllowedOrigins(...lists: (string | undefined)[]): string[] {
  return lists
    .flatMap((list) => (list ?? '').split(','))
    .map((o) => o.trim().replace(/\/+$/, '').toLowerCase())
    .filter((o) => o !== '');
}

export class HostGuard {
  constructor(
    private readonly boundHost: string,
    private readonly allowedOrigins: readonly string[],
  ) {}

  /** A request without a Host header (HTTP/1.0) comes from no browser. */
  hostAllowed(header: string | undefined): boolean {
    if (header === undefined || WILDCARDS.has(this.boundHost) || this.allowedOrigins.includes('*')) return true;
    const name = hostName(header);
    if (name === hostForm(this.boundHost)) return true;
    if (isLoopback(this.boundHost) && LOOPBACK_NAMES.includes(name)) return true;
    // A name the user allowed as an origin is a name they serve under.
    return this.allowedOrigins.some((origin) => originHost(origin) === name);
  }

  /** A page on this machine (http or https on a loopback name, any port), or an origin the user allowed. */
  originAllowed(origin: string): boolean {
    const o = origin.trim().replace(/\/+$/, '').toLowerCase();
    if (this.allowedOrigins.includes('*') || this.allowedOrigins.includes(o)) return true;
    return /^https?:\/\//.test(o) && LOOPBACK_NAMES.includes(originHost(o));
  }
}

function originHost(origin: string): string {
  const rest = origin.replace(/^[a-z][a-z0-9+.-]*:\/\//, '');
  return hostName(rest.split('/')[0] ?? '');
}
