import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import { keys } from '../../src/store/keys.ts';
import { http, startTestServer, type TestServer } from '../helpers/harness.ts';

/**
 * Anonymous registration (/auth/{actor}/emailpass/register) cannot be used to find out which
 * emails have accounts, to flood the password hasher, or to fill Redis; and no password is set
 * anywhere without passing the one password policy.
 */
describe('registration abuse and the password policy', () => {
  let srv: TestServer;
  let adminToken: string;
  let pk: string;
  let hashes = 0;
  let address = 0;
  /** A fresh client address per test (TRUST_PROXY=1), so each test's registrations count on their own. */
  const nextAddress = () => `198.51.100.${++address}`;
  const register = (email: string, password: string, ip: string, actor = 'customer') =>
    http(`${srv.url}/auth/${actor}/emailpass/register`, { method: 'POST', json: { email, password }, headers: { 'x-forwarded-for': ip } });

  before(async () => {
    srv = await startTestServer({ env: { TRUST_PROXY: '1' } });
    await srv.services.accounts.create({ actorType: 'user', email: 'admin@example.com', password: 'admin password 1', role: 'admin' });
    await srv.services.accounts.create({ actorType: 'customer', email: 'known@example.com', password: 'the owner password' });
    adminToken = (
      await http(`${srv.url}/admin/auth/token`, { method: 'POST', json: { email: 'admin@example.com', password: 'admin password 1' } })
    ).json.token;
    pk = (
      await http(`${srv.url}/admin/api-keys`, {
        method: 'POST',
        json: { title: 'shop' },
        headers: { authorization: `Bearer ${adminToken}` },
      })
    ).json.api_key.token;
    // Count the password hashes the server computes (the work a registration costs).
    const passwords = srv.services.passwords;
    const hash = passwords.hash.bind(passwords);
    passwords.hash = (password: string) => (hashes++, hash(password));
  });
  after(() => srv?.close());

  it('answers a taken email exactly like a new one, with the same work, and its token never becomes a customer', async () => {
    const ip = nextAddress();
    const before = hashes;
    const known = await register('Known@Example.com', 'attacker password', ip);
    const afterKnown = hashes;
    const unknown = await register('brand-new@example.com', 'attacker password', ip);
    assert.deepEqual([known.status, unknown.status], [200, 200]);
    assert.deepEqual(Object.keys(known.json), Object.keys(unknown.json));
    const [k, u] = [decodeJwt(known.json.token), decodeJwt(unknown.json.token)];
    assert.deepEqual(Object.keys(k).sort(), Object.keys(u).sort());
    assert.deepEqual([k.actor_id, k.actor_type, k.scope, k.exp! - k.iat!], [u.actor_id, u.actor_type, u.scope, u.exp! - u.iat!]);
    assert.deepEqual([afterKnown - before, hashes - afterKnown], [1, 1], 'one password hash for each');

    const headers = { authorization: `Bearer ${known.json.token}`, 'x-publishable-api-key': pk };
    const stepTwo = await http(`${srv.url}/store/customers`, { method: 'POST', json: { email: 'known@example.com' }, headers });
    assert.ok(stepTwo.status >= 400 && stepTwo.status < 500, `step two refuses a taken email (${stepTwo.status})`);
    assert.equal(typeof stepTwo.json.type, 'string');
    assert.equal(
      (await http(`${srv.url}/auth/token/refresh`, { method: 'POST', headers: { authorization: `Bearer ${known.json.token}` } })).status,
      401,
    );
    const login = (password: string) =>
      http(`${srv.url}/auth/customer/emailpass`, {
        method: 'POST',
        json: { email: 'known@example.com', password },
        headers: { 'x-forwarded-for': ip },
      });
    assert.equal((await login('the owner password')).status, 200, 'the owner’s password still works');
    assert.equal((await login('attacker password')).status, 401, 'the registrant’s does not');
  });

  it('keeps an anonymous registration at most an hour', async () => {
    const res = await register('short-lived@example.com', 'short lived pw', nextAddress());
    const ttl = await srv.store.ttl(keys.authIdentity(String(decodeJwt(res.json.token).auth_identity_id)));
    assert.ok(ttl > 0 && ttl <= 3600, `pending identity TTL ${ttl}s`);
  });

  it('refuses weak passwords with 400 invalid_data naming the rule, before hashing anything', async () => {
    const ip = nextAddress();
    const before = hashes;
    const cases: [string, RegExp][] = [
      ['x', /at least 8 characters/],
      ['1234567', /at least 8 characters/],
      ['password123', /most commonly used/],
      ['PassWord123', /most commonly used/],
      ['y'.repeat(1025), /at most 1024 characters/],
    ];
    for (const [password, rule] of cases) {
      const res = await register(`weak-${password.length}-${Math.random()}@example.com`, password, ip);
      assert.equal(res.status, 400, password.slice(0, 20));
      assert.equal(res.json.type, 'invalid_data');
      assert.match(res.json.message, rule);
    }
    assert.equal(hashes, before);
  });

  it('applies the same policy when an admin creates a user', async () => {
    for (const [password, rule] of [
      ['qwertyuiop', /most commonly used/],
      ['short', /at least 8 characters/],
    ] as const) {
      const res = await http(`${srv.url}/admin/users`, {
        method: 'POST',
        json: { email: 'weak-admin@example.com', password },
        headers: { authorization: `Bearer ${adminToken}` },
      });
      assert.deepEqual([res.status, res.json.type], [400, 'invalid_data']);
      assert.match(res.json.message, rule);
    }
    const ok = await http(`${srv.url}/admin/users`, {
      method: 'POST',
      json: { email: 'strong-admin@example.com', password: 'a sentence of words' },
      headers: { authorization: `Bearer ${adminToken}` },
    });
    assert.equal(ok.status, 200);
  });

  it('throttles registrations per client address, success or not, before hashing', async () => {
    const ip = nextAddress();
    const before = hashes;
    const burst = await Promise.all(
      Array.from({ length: 40 }, (_, i) => register(`burst${i}@example.com`, i % 4 ? 'burst password' : 'x', ip)),
    );
    const statuses = burst.map((r) => r.status);
    assert.equal(statuses.filter((s) => s === 429).length, 20, statuses.join(','));
    const refused = burst.find((r) => r.status === 429)!;
    assert.equal(refused.json.type, 'too_many_requests');
    assert.ok(Number(refused.headers.get('retry-after')) >= 1);
    assert.ok(hashes - before <= 20, `at most the admitted registrations hash (${hashes - before})`);
    // Another address is not affected.
    assert.equal((await register('elsewhere@example.com', 'burst password', nextAddress())).status, 200);
  });
});
