import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createClientAddressResolver, forwardedValue, trustForwardedHeaders } from '../../src/http/client-address.ts';
import { clientAddressKey, normalizeAddress, UNKNOWN_ADDRESS } from '../../src/ip-addresses.ts';
import { parseTrustProxy, TrustProxyError, type TrustProxy } from '../../src/http/trust-proxy.ts';
import { koaContext, unitApp } from '../helpers/koa-context.ts';

const resolve = (trust: TrustProxy, peer: string | undefined, xff?: string) => createClientAddressResolver(trust).resolve(peer, xff);

describe('addresses as written in headers and sockets', () => {
  it('normalizes to a bare IP: brackets, ports and zones dropped, v4-mapped unwrapped, case folded', () => {
    const cases: [string | undefined, string | null][] = [
      ['203.0.113.7', '203.0.113.7'],
      [' 203.0.113.7 ', '203.0.113.7'],
      ['203.0.113.7:4431', '203.0.113.7'],
      ['[2001:DB8::1]:443', '2001:db8::1'],
      ['[2001:db8::1]', '2001:db8::1'],
      ['fe80::1%eth0', 'fe80::1'],
      ['::ffff:10.1.2.3', '10.1.2.3'],
      ['unknown', null],
      ['', null],
      [undefined, null],
      ['203.0.113.999', null],
      ['2001:db8::1:443', '2001:db8::1:443'],
    ];
    for (const [raw, expected] of cases) assert.equal(normalizeAddress(raw), expected, String(raw));
  });

  it('keys throttles by IPv4 address or IPv6 /64, so one client cannot spread over its own addresses', () => {
    assert.equal(clientAddressKey('2001:db8:0:1::5'), '2001:db8:0:1::/64');
    assert.equal(clientAddressKey('[2001:db8:0:1:aaaa::9]:80'), '2001:db8:0:1::/64');
    assert.equal(clientAddressKey('::1'), '0:0:0:0::/64');
    assert.equal(clientAddressKey('not an ip'), UNKNOWN_ADDRESS);
  });
});

describe('the client address behind trusted proxies', () => {
  it('TRUST_PROXY off: the socket peer, whatever X-Forwarded-For says', () => {
    assert.deepEqual(resolve({ mode: 'off' }, '::ffff:198.51.100.1', '203.0.113.9'), { address: '198.51.100.1', trustedHops: 0 });
    assert.deepEqual(resolve({ mode: 'off' }, undefined), { address: UNKNOWN_ADDRESS, trustedHops: 0 });
  });

  it('N hops: the entry N places left of the peer, so entries a client wrote before them do not count', () => {
    const hops = (n: number) => ({ mode: 'hops', hops: n }) as const;
    assert.equal(resolve(hops(1), '10.0.0.1', '1.1.1.1, 203.0.113.9').address, '203.0.113.9');
    assert.equal(resolve(hops(2), '10.0.0.1', '1.1.1.1, 203.0.113.9, 10.0.0.2').address, '203.0.113.9');
    assert.equal(resolve(hops(1), '10.0.0.1').address, '10.0.0.1', 'no header: the peer itself');
    assert.equal(resolve(hops(3), '10.0.0.1', '203.0.113.9').address, '203.0.113.9', 'fewer entries than hops: the leftmost');
    assert.equal(
      resolve(hops(1), '10.0.0.1', '1.1.1.1, not-an-ip').address,
      UNKNOWN_ADDRESS,
      'a malformed entry where the client should be',
    );
    assert.equal(resolve(hops(2), '10.0.0.1', 'a, b, c').trustedHops, 2);
  });

  it('a proxy list: the first address from the right that is not a listed proxy; an unlisted peer is the client', () => {
    const list: TrustProxy = { mode: 'list', proxies: ['10.0.0.0/8', '192.0.2.1', 'fd00::/8'] };
    assert.deepEqual(resolve(list, '10.1.2.3', '1.1.1.1, 203.0.113.9, 192.0.2.1'), { address: '203.0.113.9', trustedHops: 2 });
    assert.deepEqual(resolve(list, '[fd00::5]:1234', '203.0.113.9'), { address: '203.0.113.9', trustedHops: 1 });
    assert.deepEqual(
      resolve(list, '198.51.100.7', '203.0.113.9'),
      { address: '198.51.100.7', trustedHops: 0 },
      'an unlisted peer speaks for no one',
    );
    assert.equal(resolve(list, '10.1.2.3', '10.0.0.9, 10.0.0.8').address, '10.0.0.9', 'all listed: the leftmost');
    assert.equal(resolve(list, '10.1.2.3', 'garbage, 192.0.2.1').address, UNKNOWN_ADDRESS);
    assert.equal(resolve(list, '10.1.2.3').address, '10.1.2.3');
  });

  it('takes X-Forwarded-Proto/-Host from the outermost trusted proxy only', () => {
    assert.equal(forwardedValue('https', 0), undefined);
    assert.equal(forwardedValue('https', 1), 'https');
    assert.equal(forwardedValue('http, https', 1), 'https', 'the entry our proxy appended, not the client-written one');
    assert.equal(forwardedValue('http, https', 2), 'http');
    assert.equal(forwardedValue('https', 3), 'https', 'a proxy that replaced the header');
    assert.equal(forwardedValue(undefined, 1), undefined);
  });
});

describe('Koa request properties follow TRUST_PROXY', () => {
  const contextFor = (trust: TrustProxy, headers: Record<string, string>, remoteAddress = '10.0.0.1') => {
    const app = unitApp();
    trustForwardedHeaders(app, trust);
    return koaContext({ headers, remoteAddress }, app);
  };
  const forwarded = { 'x-forwarded-for': '6.6.6.6, 203.0.113.9', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'auth.example.com' };

  it('with a trusted proxy: ip, ips, protocol and host as the proxy saw the request', () => {
    const ctx = contextFor({ mode: 'hops', hops: 1 }, forwarded);
    assert.equal(ctx.ip, '203.0.113.9');
    assert.deepEqual(ctx.ips, ['203.0.113.9']);
    assert.equal(ctx.protocol, 'https');
    assert.equal(ctx.secure, true);
    assert.equal(ctx.host, 'auth.example.com');
  });

  it('without one: the direct request, forwarded headers ignored', () => {
    const ctx = contextFor({ mode: 'off' }, forwarded);
    assert.equal(ctx.ip, '10.0.0.1');
    assert.deepEqual(ctx.ips, []);
    assert.equal(ctx.protocol, 'http');
    assert.equal(ctx.host, 'auth.example.test');
  });

  it('refuses a forwarded scheme other than http(s), and strips userinfo from a forwarded host', () => {
    const ctx = contextFor(
      { mode: 'hops', hops: 1 },
      { 'x-forwarded-proto': 'javascript', 'x-forwarded-host': 'user:pw@auth.example.com:8443' },
    );
    assert.equal(ctx.protocol, 'http');
    assert.equal(ctx.host, 'auth.example.com:8443');
  });

  it('lets ctx.ip be set, as tests and oidc-provider do', () => {
    const ctx = contextFor({ mode: 'off' }, {});
    ctx.request.ip = '198.51.100.5';
    assert.equal(ctx.ip, '198.51.100.5');
  });
});

describe('TRUST_PROXY parsing', () => {
  it('takes hops from 1 to 32 and IPv4/IPv6 addresses or CIDRs with prefixes that fit the family', () => {
    assert.deepEqual(parseTrustProxy('32'), { mode: 'hops', hops: 32 });
    assert.deepEqual(parseTrustProxy('::1, 2001:db8::/32'), { mode: 'list', proxies: ['::1', '2001:db8::/32'] });
    for (const bad of ['33', '2001:db8::/129', '10.0.0.0/33', '10.0.0.0/', '10.0.0.0/x', ',', 'localhost'])
      assert.throws(() => parseTrustProxy(bad), TrustProxyError, bad);
  });
});
