import { BlockList, isIPv6 } from 'node:net';
import type Koa from 'koa';
import { normalizeAddress, UNKNOWN_ADDRESS } from '../ip-addresses.ts';
import type { TrustProxy } from './trust-proxy.ts';

/** Where a request came from, as far as the trusted proxies in front of us can tell. */
export interface ClientHop {
  /** The client's address: the first address, from the right, not written by a trusted proxy. */
  address: string;
  /** How many trusted proxies the request passed (0: forwarded headers are not trusted at all). */
  trustedHops: number;
}

/**
 * The client address from the socket's peer and X-Forwarded-For, read from the right: each proxy
 * appends the address it received from, so only the entries our own proxies wrote are facts; the
 * ones to their left are whatever the client sent. With `hops` the client is that many entries
 * left of the peer; with a list, the first address from the right that is not a listed proxy.
 */
export function createClientAddressResolver(trust: TrustProxy) {
  const listed = new BlockList();
  if (trust.mode === 'list') {
    for (const entry of trust.proxies) {
      const [address, prefix] = entry.split('/') as [string, string | undefined];
      const family = isIPv6(address) ? 'ipv6' : 'ipv4';
      if (prefix === undefined) listed.addAddress(address, family);
      else listed.addSubnet(address, Number(prefix), family);
    }
  }
  const isTrusted = (address: string) => listed.check(address, isIPv6(address) ? 'ipv6' : 'ipv4');

  return {
    resolve(peer: string | undefined, forwardedFor: string | undefined): ClientHop {
      const direct = normalizeAddress(peer) ?? UNKNOWN_ADDRESS;
      if (trust.mode === 'off') return { address: direct, trustedHops: 0 };
      const chain = (forwardedFor ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      if (trust.mode === 'hops') {
        const all = [...chain, peer];
        const at = Math.max(0, all.length - 1 - trust.hops);
        return { address: at === all.length - 1 ? direct : (normalizeAddress(all[at]) ?? UNKNOWN_ADDRESS), trustedHops: trust.hops };
      }
      if (direct === UNKNOWN_ADDRESS || !isTrusted(direct)) return { address: direct, trustedHops: 0 };
      let trustedHops = 1;
      for (let i = chain.length - 1; i >= 0; i--) {
        const address = normalizeAddress(chain[i]);
        if (!address) return { address: UNKNOWN_ADDRESS, trustedHops };
        if (!isTrusted(address) || i === 0) return { address, trustedHops };
        trustedHops++;
      }
      return { address: direct, trustedHops };
    },
  };
}

/**
 * The value of a forwarded header (X-Forwarded-Proto, -Host) the outermost trusted proxy wrote:
 * with proxies that each append, the entry `trustedHops` from the right; with one that replaces
 * the header, its only entry. Undefined when no trusted proxy stands in front of us.
 */
export function forwardedValue(header: string | undefined, trustedHops: number): string | undefined {
  if (!trustedHops || !header) return undefined;
  const entries = header
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return entries[Math.max(0, entries.length - trustedHops)];
}

const HOP = Symbol('clientHop');
const IP_OVERRIDE = Symbol('ipOverride');
type KoaRequest = Koa['request'] & { [HOP]?: ClientHop; [IP_OVERRIDE]?: string };

/**
 * Make Koa's `ctx.ip`, `ctx.ips`, `ctx.protocol`, `ctx.host` (and so `ctx.secure`, `ctx.origin`,
 * `ctx.href`) follow TRUST_PROXY, for every consumer at once: the login and registration
 * throttles, the request log, and oidc-provider (mounted on our context). Koa's own rule (trust the
 * leftmost X-Forwarded-For entry, and X-Forwarded-Proto/-Host from any peer) is switched off.
 */
export function trustForwardedHeaders(app: Koa, trust: TrustProxy): void {
  const resolver = createClientAddressResolver(trust);
  // Only the getters below read forwarded headers; Koa's base getters then see the direct request.
  app.proxy = false;
  const base = Object.getPrototypeOf(app.request) as object;
  const baseHost = Object.getOwnPropertyDescriptor(base, 'host')!.get!;
  const baseProtocol = Object.getOwnPropertyDescriptor(base, 'protocol')!.get!;
  const hopOf = (req: KoaRequest): ClientHop => (req[HOP] ??= resolver.resolve(req.socket?.remoteAddress, req.get('X-Forwarded-For')));

  Object.defineProperties(app.request, {
    ip: {
      configurable: true,
      get(this: KoaRequest) {
        return this[IP_OVERRIDE] ?? hopOf(this).address;
      },
      set(this: KoaRequest, value: string) {
        this[IP_OVERRIDE] = value;
      },
    },
    ips: {
      configurable: true,
      get(this: KoaRequest) {
        const { trustedHops } = hopOf(this);
        const chain = this.get('X-Forwarded-For')
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        return trustedHops ? chain.slice(-trustedHops) : [];
      },
    },
    protocol: {
      configurable: true,
      get(this: KoaRequest) {
        if ((this.socket as { encrypted?: boolean } | undefined)?.encrypted) return 'https';
        const proto = forwardedValue(this.get('X-Forwarded-Proto'), hopOf(this).trustedHops)?.toLowerCase();
        return proto === 'https' || proto === 'http' ? proto : baseProtocol.call(this);
      },
    },
    host: {
      configurable: true,
      get(this: KoaRequest) {
        const forwarded = forwardedValue(this.get('X-Forwarded-Host'), hopOf(this).trustedHops);
        if (!forwarded) return baseHost.call(this);
        if (!forwarded.includes('@')) return forwarded;
        try {
          return new URL(`http://${forwarded}`).host;
        } catch {
          return '';
        }
      },
    },
  });
}
