import { isIP } from 'node:net';

/**
 * Which hops in front of the server may speak for the client through X-Forwarded-For/-Proto/-Host:
 * none; the nearest `hops` proxies (each appends the address it received from); or the proxies
 * whose addresses are listed (IPs or CIDRs), however many of them the request passed.
 */
export type TrustProxy = { mode: 'off' } | { mode: 'hops'; hops: number } | { mode: 'list'; proxies: string[] };

export const TRUST_PROXY_OFF: TrustProxy = { mode: 'off' };

export class TrustProxyError extends Error {
  constructor(value: string) {
    super(
      `expected 1/true/yes/on (one proxy hop), 0/false/no/off, a number of proxy hops, or a comma-separated list of proxy IPs/CIDRs; got "${value}"`,
    );
    this.name = 'TrustProxyError';
  }
}

const ON = new Set(['1', 'true', 'yes', 'on']);
const OFF = new Set(['', '0', 'false', 'no', 'off']);
/** More hops than any real chain of proxies: a larger number is a typo. */
const MAX_HOPS = 32;

/** "a.b.c.d", "a.b.c.d/n", "v6", "v6/n" with a prefix length that fits the family. */
function isAddressOrCidr(entry: string): boolean {
  const [address = '', prefix, extra] = entry.split('/');
  const family = isIP(address);
  if (!family || extra !== undefined) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

/** TRUST_PROXY's value -> a TrustProxy; anything not one of the documented spellings throws. */
export function parseTrustProxy(raw: string | undefined): TrustProxy {
  const value = (raw ?? '').trim();
  const word = value.toLowerCase();
  if (OFF.has(word)) return TRUST_PROXY_OFF;
  if (ON.has(word)) return { mode: 'hops', hops: 1 };
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    if (hops < 1 || hops > MAX_HOPS) throw new TrustProxyError(value);
    return { mode: 'hops', hops };
  }
  const proxies = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!proxies.length || !proxies.every(isAddressOrCidr)) throw new TrustProxyError(value);
  return { mode: 'list', proxies };
}
