import { isIP, isIPv6 } from 'node:net';

// IP addresses as text: what src/http/client-address.ts reads from the socket and X-Forwarded-For,
// and the key the throttles in src/rate-limit count a client under. Knows neither side.

/** What an address the chain should have held, but does not, counts as (one shared bucket). */
export const UNKNOWN_ADDRESS = 'unknown';

/**
 * One entry of X-Forwarded-For (or a socket address) as a bare IP: brackets, a port and an IPv6
 * zone dropped, an IPv4-mapped IPv6 address unwrapped. Null when it is not an IP at all.
 */
export function normalizeAddress(raw: string | undefined): string | null {
  let a = (raw ?? '').trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(a);
  if (bracketed) a = bracketed[1]!;
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(a)) a = a.slice(0, a.lastIndexOf(':'));
  a = a.replace(/%[\w.-]+$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  if (mapped) a = mapped[1]!;
  return isIP(a) ? a.toLowerCase() : null;
}

/** Addresses as a client controls them, for throttles: an IPv4 address, or an IPv6 /64. */
export function clientAddressKey(ip: string): string {
  const address = normalizeAddress(ip);
  if (!address) return UNKNOWN_ADDRESS;
  if (!isIPv6(address)) return address;
  const [head = '', tail = ''] = address.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const full = address.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  return (
    full
      .slice(0, 4)
      .map((h) => h.replace(/^0+(?=.)/, ''))
      .join(':') + '::/64'
  );
}
