import { createHash } from 'node:crypto';
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { SignJWT } from 'jose';
import { createAccounts } from '../../src/accounts/accounts.ts';
import { createPasswordHasher } from '../../src/accounts/passwords.ts';
import { createApiKeys } from '../../src/api-keys/api-keys.ts';
import { InvalidTokenError } from '../../src/errors.ts';
import { apiKeyResolver, CREATOR_CACHE_MS } from '../../src/principal/api-key.ts';
import { SESSION_COOKIE, sessionSignInRef } from '../../src/principal/session.ts';
import type { Services } from '../../src/services.ts';
import { createMemoryStore } from '../../src/store/memory.ts';
import { koaContext, signedCookie } from '../helpers/koa-context.ts';
import { ROLE_SCOPES } from '../helpers/units.ts';
import { memoryServices } from '../helpers/units-services.ts';

const withAuthorization = (authorization: string) => koaContext({ headers: { authorization } });

/** Each credential kind reaches its own resolver in the chain services.ts builds, and becomes the Principal it stands for. */
describe('the credential resolvers, as wired', () => {
  let services: Services;
  let adminId: string;
  before(async () => {
    services = await memoryServices();
    adminId = (await services.accounts.create({ actorType: 'user', email: 'admin@example.com', role: 'admin' })).id;
  });
  const authenticate = (ctx: ReturnType<typeof koaContext>) => services.authenticate(ctx);

  it('a first-party JWT: the user, role and scopes it was issued with, its sign-in and id', async () => {
    const issued = await services.jwt.issue({
      sub: adminId,
      actorType: 'user',
      scope: ['read', 'write'],
      sid: 'fam_p',
      ttlSeconds: 60,
      extra: { role: 'developer' },
    });
    const p = await authenticate(withAuthorization(`Bearer ${issued.token}`));
    assert.deepEqual(p, {
      kind: 'user',
      id: adminId,
      actorType: 'user',
      scopes: ['read', 'write'],
      method: 'jwt',
      expiresAt: issued.expiresAt,
      role: 'developer',
      sid: 'fam_p',
      jti: issued.jti,
    });
  });

  it('a registration token: a principal of kind registration with no scopes, which no guard takes for an actor', async () => {
    const token = await services.jwt.issueRegistration('authid_1', 'customer');
    const p = await authenticate(withAuthorization(`Bearer ${token}`));
    assert.equal(p?.kind, 'registration');
    assert.equal(p?.id, 'authid_1');
    assert.deepEqual(p?.scopes, []);
  });

  it('a secret API key in Bearer, raw Basic or Basic user:password form; a publishable key authenticates no one', async () => {
    const { key, token } = await services.apiKeys.create({
      type: 'secret',
      title: 'ci',
      createdBy: adminId,
      scopes: ['read', 'write'],
      rateLimit: '10/m',
    });
    for (const header of [`Bearer ${token}`, `Basic ${token}`, `Basic ${Buffer.from(`${token}:`).toString('base64')}`]) {
      const p = await authenticate(withAuthorization(header));
      assert.deepEqual(
        { kind: p?.kind, id: p?.id, method: p?.method, keyId: p?.keyId, scopes: p?.scopes, role: p?.role, rateLimit: p?.rateLimit },
        { kind: 'api_key', id: adminId, method: 'api_key', keyId: key.id, scopes: ['read', 'write'], role: 'developer', rateLimit: '10/m' },
        header.slice(0, 9),
      );
    }
    const publishable = await services.apiKeys.create({ type: 'publishable', title: 'shop', createdBy: adminId });
    await assert.rejects(authenticate(withAuthorization(`Bearer ${publishable.token}`)), InvalidTokenError);
  });

  it('an OAuth access token (at+jwt for our resource audience): the user and the client it was granted to', async () => {
    const signer = services.keystore.signingKey();
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ client_id: 'app_1', grant_id: 'grant_1', scope: 'openid read', actor_type: 'user' })
      .setProtectedHeader({ alg: signer.alg, kid: signer.kid, typ: 'at+jwt' })
      .setIssuer(services.config.issuer)
      .setAudience(services.config.oauth.resourceAudience)
      .setSubject(adminId)
      .setJti('at_1')
      .setIssuedAt(now)
      .setExpirationTime(now + 60)
      .sign(signer.key);
    const p = await authenticate(withAuthorization(`Bearer ${token}`));
    assert.deepEqual(
      { kind: p?.kind, method: p?.method, clientId: p?.clientId, sid: p?.sid, scopes: p?.scopes },
      { kind: 'user', method: 'oauth', clientId: 'app_1', sid: 'grant_1', scopes: ['openid', 'read'] },
    );
  });

  it('a signed session cookie: the session and the sign-in it belongs to', async () => {
    const signInEnds = new Date(Date.now() + 3_600_000).toISOString();
    const { id } = await services.sessions.create(
      {
        actor_id: adminId,
        actor_type: 'user',
        auth_identity_id: 'ai',
        app_metadata: {},
        role: 'admin',
        scopes: ['read', 'write', 'admin'],
        sid: 'lin_sess',
        sign_in_ends_at: signInEnds,
      },
      600,
    );
    const p = await authenticate(koaContext({ headers: { cookie: signedCookie(SESSION_COOKIE, id) } }));
    assert.deepEqual(
      { kind: p?.kind, method: p?.method, role: p?.role, sid: p?.sid, signInEndsAt: p?.signInEndsAt?.toISOString() },
      { kind: 'user', method: 'session', role: 'admin', sid: 'lin_sess', signInEndsAt: signInEnds },
    );
  });

  it('anything else is invalid_token: a JWT of a type nobody owns, garbage, a forged key', async () => {
    const signer = services.keystore.signingKey();
    const stranger = await new SignJWT({ sub: adminId })
      .setProtectedHeader({ alg: signer.alg, kid: signer.kid, typ: 'dpop+jwt' })
      .sign(signer.key);
    for (const token of [stranger, 'garbage', 'a.b.c', `sk_${'0'.repeat(64)}`]) {
      await assert.rejects(authenticate(withAuthorization(`Bearer ${token}`)), InvalidTokenError, token.slice(0, 12));
    }
  });
});

describe('the API key resolver', () => {
  async function world() {
    let clock = Date.now();
    const store = createMemoryStore();
    const accounts = createAccounts({ store, passwords: createPasswordHasher() });
    const apiKeys = createApiKeys({ store, pepper: 'p'.repeat(32) });
    const resolver = apiKeyResolver({ apiKeys, accounts, roleScopes: ROLE_SCOPES, now: () => clock });
    const creator = await accounts.create({ actorType: 'user', email: 'creator@example.com', role: 'admin' });
    const { key, token } = await apiKeys.create({ type: 'secret', title: 'k', createdBy: creator.id, scopes: ['read', 'write', 'admin'] });
    const resolve = () => resolver.resolve({ scheme: 'bearer', value: token });
    return { accounts, apiKeys, creator, key, resolve, advance: (ms: number) => (clock += ms) };
  }

  it('acts with at most its creator current role, seen within seconds of a demotion', async () => {
    const w = await world();
    assert.deepEqual(await w.resolve().then((p) => [p?.role, p?.scopes]), ['admin', ['read', 'write', 'admin']]);
    await w.accounts.update(w.creator.id, { role: 'member' });
    w.advance(CREATOR_CACHE_MS + 1);
    assert.deepEqual(await w.resolve().then((p) => [p?.role, p?.scopes]), ['member', ['read']]);
  });

  it('stops at once when revoked: the key record is read on every use', async () => {
    const w = await world();
    await w.resolve();
    await w.apiKeys.revoke(w.key.id, w.creator.id);
    await assert.rejects(w.resolve(), InvalidTokenError);
  });

  it('stops once past its expiry, and names that expiry on the principal', async () => {
    const w = await world();
    const expiresAt = new Date(Date.now() + 60_000).toISOString();
    const { token } = await w.apiKeys.create({ type: 'secret', title: 'short', createdBy: w.creator.id, scopes: ['read'], expiresAt });
    const resolver = apiKeyResolver({ apiKeys: w.apiKeys, accounts: w.accounts, roleScopes: ROLE_SCOPES });
    assert.equal((await resolver.resolve({ scheme: 'bearer', value: token }))?.expiresAt?.toISOString(), expiresAt);
    const expired = await w.apiKeys.create({
      type: 'secret',
      title: 'old',
      createdBy: w.creator.id,
      scopes: ['read'],
      expiresAt: new Date(Date.now() - 1000).toISOString(),
    });
    await assert.rejects(resolver.resolve({ scheme: 'bearer', value: expired.token }), InvalidTokenError);
  });

  it('of a creator who is not a back-office user, authenticates no one', async () => {
    const w = await world();
    const customer = await w.accounts.create({ actorType: 'customer', email: 'cust@example.com' });
    const { token } = await w.apiKeys.create({ type: 'secret', title: 'odd', createdBy: customer.id, scopes: ['read'] });
    const resolver = apiKeyResolver({ apiKeys: w.apiKeys, accounts: w.accounts, roleScopes: ROLE_SCOPES });
    await assert.rejects(resolver.resolve({ scheme: 'bearer', value: token }), InvalidTokenError);
  });
});

describe('the session resolver', () => {
  async function withSession(role: 'admin' | 'member' = 'admin', ttlSeconds = 600) {
    const services = await memoryServices();
    const user = await services.accounts.create({ actorType: 'user', email: 's@example.com', role });
    const { id } = await services.sessions.create(
      {
        actor_id: user.id,
        actor_type: 'user',
        auth_identity_id: 'ai',
        app_metadata: {},
        role,
        scopes: ROLE_SCOPES[role],
        sid: 'lin_s',
        sign_in_ends_at: new Date(Date.now() + 3_600_000).toISOString(),
      },
      ttlSeconds,
    );
    const resolve = () => services.authenticate(koaContext({ headers: { cookie: signedCookie(SESSION_COOKIE, id) } }));
    return { services, user, id, resolve };
  }

  it('ends with the sign-in it came from', async () => {
    const s = await withSession();
    assert.equal((await s.resolve())?.id, s.user.id);
    await s.services.revocations.revokeLineage('lin_s');
    await assert.rejects(s.resolve(), (err: Error) => err instanceof InvalidTokenError && /session has ended/.test(err.message));
  });

  it('holds no more than the account current role allows', async () => {
    const s = await withSession('admin');
    await s.services.accounts.update(s.user.id, { role: 'member' });
    const p = await s.resolve();
    assert.equal(p?.role, 'member');
    assert.deepEqual(p?.scopes, ['read']);
  });

  it('ends at logout, with its entry among the sign-ins', async () => {
    const s = await withSession();
    assert.equal((await s.services.sessions.end(s.id))?.sid, 'lin_s');
    await assert.rejects(s.resolve(), InvalidTokenError);
    assert.deepEqual(await s.services.signIns.refsOf(s.user.id, 'session'), []);
    assert.equal(await s.services.sessions.end(s.id), null, 'a second logout finds nothing');
  });

  it('is listed among the sign-ins under a short reference, and one listed in hex (an earlier release) still ends', async () => {
    const s = await withSession();
    const [ref] = await s.services.signIns.refsOf(s.user.id, 'session');
    assert.equal(ref, sessionSignInRef(s.id));
    assert.ok(`session:${ref}`.length <= 64, 'within the compact sorted-set encoding');
    // As an earlier release recorded it: the hex hash that is also the record's key.
    await s.services.signIns.forget(s.user.id, 'session', ref!);
    const hex = createHash('sha256').update(s.id).digest('hex');
    await s.services.signIns.add(s.user.id, 'session', hex, Date.now() + 600_000);
    assert.equal(await s.services.sessions.signInOf(hex), 'lin_s', 'the session is found from the hex entry');
    const other = await withSession();
    await other.services.signIns.forget(other.user.id, 'session', sessionSignInRef(other.id));
    await other.services.signIns.add(other.user.id, 'session', createHash('sha256').update(other.id).digest('hex'), Date.now() + 600_000);
    // Ended by sign-out everywhere, and by a logout of the session itself: no entry is left behind.
    assert.equal(await s.services.signIns.endAll(s.user.id), 1);
    await assert.rejects(s.resolve(), InvalidTokenError);
    await other.services.sessions.end(other.id);
    await assert.rejects(other.resolve(), InvalidTokenError);
    assert.deepEqual(await other.services.signIns.refsOf(other.user.id, 'session'), []);
  });
});
