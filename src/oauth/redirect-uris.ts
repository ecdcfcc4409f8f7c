/**
 * Which redirect URIs a client may register (RFC 6749 §3.1.2, RFC 8252 for native apps, RFC 9700).
 * The provider matches redirect URIs exactly (loopback ports aside, below), so what is refused here
 * is what an exact match would still make dangerous: a stored literal `*`, a fragment, credentials
 * in the URI, schemes that run code or read files in the browser, and plain http off this machine.
 *
 * A client with a private-use scheme (`com.example.app:/cb`) or a loopback redirect
 * (`http://127.0.0.1/cb`, `http://[::1]/cb`) is a native app: the provider then accepts any port
 * on a loopback redirect (RFC 8252 §7.3), as a native app listens on whatever port is free.
 */

export const REDIRECT_URI_MAX_LENGTH = 2048;

/** Loopback IP literals as URL.hostname spells them; RFC 8252 §8.3 prefers them to `localhost`. */
const LOOPBACK_IPS = new Set(['127.0.0.1', '[::1]']);
/** Schemes that execute script, embed content or reach local files: never a place to send a code. */
const FORBIDDEN_SCHEMES = new Set(['javascript:', 'data:', 'file:', 'vbscript:', 'blob:', 'about:', 'filesystem:']);
/** RFC 8252 §7.1: a private-use scheme is a reverse domain name the app's publisher controls. */
const REVERSE_DNS_SCHEME = /^[a-z][a-z0-9+-]*(\.[a-z0-9+-]+)+:$/;

export type RedirectKind = 'https' | 'http' | 'loopback' | 'private-use';

const isLocalhostName = (hostname: string) => hostname === 'localhost' || hostname.endsWith('.localhost');

function kindOf(url: URL): RedirectKind {
  if (url.protocol === 'https:') return 'https';
  if (url.protocol === 'http:') return LOOPBACK_IPS.has(url.hostname) || url.hostname === 'localhost' ? 'loopback' : 'http';
  return 'private-use';
}

/** Why `uri` may not be registered, or null when it may. `production` refuses plain http off loopback IPs. */
export function redirectUriProblem(uri: string, opts: { production: boolean }): string | null {
  if (uri.length > REDIRECT_URI_MAX_LENGTH) return `redirect URI longer than ${REDIRECT_URI_MAX_LENGTH} characters: ${uri.slice(0, 64)}...`;
  if (uri.includes('*')) return `redirect URI must not contain a wildcard (*); redirect URIs are matched exactly: ${uri}`;
  if (uri.includes('#')) return `redirect URI must not have a fragment (#): ${uri}`;
  const url = URL.parse(uri);
  if (!url) return `redirect URI is not an absolute URL: ${uri}`;
  if (FORBIDDEN_SCHEMES.has(url.protocol)) return `redirect URI must not use the ${url.protocol} scheme: ${uri}`;
  if (url.username || url.password) return `redirect URI must not contain user information (user:password@): ${uri}`;
  const kind = kindOf(url);
  if (kind === 'private-use') {
    if (!REVERSE_DNS_SCHEME.test(url.protocol)) {
      return `redirect URI must be https, http on a loopback address, or a private-use scheme in reverse-DNS form such as com.example.app:/callback (RFC 8252 §7.1): ${uri}`;
    }
    return null;
  }
  if (!url.hostname) return `redirect URI has no host: ${uri}`;
  if (opts.production && isLocalhostName(url.hostname)) {
    return `redirect URI must not use the name localhost in production; use the loopback IP http://127.0.0.1 or http://[::1] (RFC 8252 §8.3): ${uri}`;
  }
  if (opts.production && kind === 'http') return `redirect URI must use https (plain http is allowed only to 127.0.0.1 or [::1]): ${uri}`;
  return null;
}

/**
 * Native (RFC 8252) when any redirect is a private-use scheme or a loopback, and none is plain http
 * to another host; otherwise a web client (exact match, http(s) only).
 */
export function applicationTypeOf(uris: string[]): 'native' | 'web' {
  const kinds = new Set(
    uris
      .map((u) => URL.parse(u))
      .filter((u): u is URL => u !== null)
      .map(kindOf),
  );
  return (kinds.has('private-use') || kinds.has('loopback')) && !kinds.has('http') ? 'native' : 'web';
}

/** Why a client's redirect URIs cannot be registered together, or null. */
export function redirectUriSetProblem(uris: string[]): string | null {
  const parsed = uris.map((u) => ({ uri: u, url: URL.parse(u) })).filter((p): p is { uri: string; url: URL } => p.url !== null);
  const privateUse = parsed.find((p) => kindOf(p.url) === 'private-use');
  const plainHttp = parsed.find((p) => kindOf(p.url) === 'http');
  if (privateUse && plainHttp) {
    return `redirect URIs mix a native app's private-use scheme (${privateUse.uri}) with plain http to a non-loopback host (${plainHttp.uri}): register them as two clients`;
  }
  if (applicationTypeOf(uris) === 'native') {
    // The provider refuses claimed https URIs on loopback hosts for native apps (RFC 8252 §7.2).
    const httpsLoopback = parsed.find(
      (p) => kindOf(p.url) === 'https' && (LOOPBACK_IPS.has(p.url.hostname) || p.url.hostname === 'localhost'),
    );
    if (httpsLoopback)
      return `redirect URI https to a loopback host cannot be registered with native redirect URIs; use http://127.0.0.1 (RFC 8252 §7.3): ${httpsLoopback.uri}`;
  }
  return null;
}
