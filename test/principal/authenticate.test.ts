import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidTokenError, ServiceUnavailableError } from '../../src/errors.ts';
import { createAuthenticator } from '../../src/principal/authenticate.ts';
import type { Credential, CredentialResolver, Principal } from '../../src/principal/principal.ts';
import { readCredential } from '../../src/principal/read-credential.ts';
import { koaContext, signedCookie } from '../helpers/koa-context.ts';

const principal = (id: string): Principal => ({ kind: 'user', id, actorType: 'user', scopes: [], method: 'jwt', expiresAt: null });

/** A resolver that owns credentials whose value starts with `owns`, and records what it was asked. */
function resolver(name: string, owns: string, answer: (c: Credential) => Promise<Principal> = async () => principal(name)) {
  const asked: Credential[] = [];
  const r: CredentialResolver = {
    name,
    async resolve(credential) {
      asked.push(credential);
      return credential.value.startsWith(owns) ? answer(credential) : undefined;
    },
  };
  return { r, asked };
}

const bearer = (token: string) => koaContext({ headers: { authorization: `Bearer ${token}` } });

describe('authenticate', () => {
  it('asks the resolvers in order; the first that owns the credential decides and the rest are not asked', async () => {
    const a = resolver('a', 'a_');
    const b = resolver('b', 'b_');
    const c = resolver('c', 'b_');
    const authenticate = createAuthenticator([a.r, b.r, c.r]);
    assert.equal((await authenticate(bearer('b_token')))?.id, 'b');
    assert.deepEqual([a.asked.length, b.asked.length, c.asked.length], [1, 1, 0]);
    assert.deepEqual(b.asked[0], { scheme: 'bearer', value: 'b_token' });
  });

  it('answers null without asking anyone when the request carries no credential', async () => {
    const a = resolver('a', '');
    assert.equal(await createAuthenticator([a.r])(koaContext()), null);
    assert.equal(a.asked.length, 0);
  });

  it('refuses a credential no resolver owns as invalid_token', async () => {
    const authenticate = createAuthenticator([resolver('a', 'a_').r]);
    await assert.rejects(authenticate(bearer('zzz')), InvalidTokenError);
  });

  it('stops at a resolver that owns the credential and refuses it: no later resolver gets a chance', async () => {
    const a = resolver('a', 'x', async () => {
      throw new InvalidTokenError('The token has been revoked');
    });
    const b = resolver('b', 'x');
    await assert.rejects(createAuthenticator([a.r, b.r])(bearer('x')), /revoked/);
    assert.equal(b.asked.length, 0);
  });

  it('resolves once per request: guards, quotas and handlers share the answer', async () => {
    const a = resolver('a', 'a_');
    const authenticate = createAuthenticator([a.r]);
    const ctx = bearer('a_1');
    const first = await authenticate(ctx);
    assert.equal(await authenticate(ctx), first);
    assert.equal(a.asked.length, 1);
    await authenticate(bearer('a_1'));
    assert.equal(a.asked.length, 2, 'another request is resolved again');
  });

  it('fails the same way again on one request without asking the store a second time', async () => {
    const outage = new ServiceUnavailableError('store down');
    const a = resolver('a', '', async () => {
      throw outage;
    });
    const authenticate = createAuthenticator([a.r]);
    const ctx = bearer('anything');
    await assert.rejects(authenticate(ctx), (err) => err === outage);
    await assert.rejects(authenticate(ctx), (err) => err === outage);
    assert.equal(a.asked.length, 1);
  });

  it('reads the session cookie only when the surface names one, and prefers the Authorization header', async () => {
    const a = resolver('a', '');
    const cookie = signedCookie('connect.sid', 'sess_1');
    await createAuthenticator([a.r], { sessionCookie: 'connect.sid' })(koaContext({ headers: { cookie } }));
    assert.deepEqual(a.asked.at(-1), { scheme: 'session', value: 'sess_1' });
    assert.equal(
      await createAuthenticator([a.r])(koaContext({ headers: { cookie } })),
      null,
      'a surface without sessions ignores the cookie',
    );
    await createAuthenticator([a.r], { sessionCookie: 'connect.sid' })(koaContext({ headers: { cookie, authorization: 'Bearer tok' } }));
    assert.deepEqual(a.asked.at(-1), { scheme: 'bearer', value: 'tok' });
  });
});

describe('reading the credential off a request', () => {
  it('takes Bearer and Basic in any case, with exactly one space', () => {
    assert.deepEqual(readCredential(bearer('abc')), { scheme: 'bearer', value: 'abc' });
    assert.deepEqual(readCredential(koaContext({ headers: { authorization: 'bearer abc' } })), { scheme: 'bearer', value: 'abc' });
    assert.deepEqual(readCredential(koaContext({ headers: { authorization: 'BASIC c2tfMTo=' } })), { scheme: 'basic', value: 'c2tfMTo=' });
  });

  it('refuses a malformed Authorization header as an invalid token rather than reading it as no credential', () => {
    for (const header of ['Bearer', 'Bearer ', 'Bearer  abc', 'Bearer abc def', 'Token abc', 'abc', 'Digest abc']) {
      assert.throws(() => readCredential(koaContext({ headers: { authorization: header } }), 'connect.sid'), InvalidTokenError, header);
    }
  });

  it('takes only a validly signed session cookie', () => {
    assert.deepEqual(readCredential(koaContext({ headers: { cookie: signedCookie('connect.sid', 'sess_2') } }), 'connect.sid'), {
      scheme: 'session',
      value: 'sess_2',
    });
    assert.equal(readCredential(koaContext({ headers: { cookie: 'connect.sid=sess_2' } }), 'connect.sid'), null, 'unsigned');
    const forged = signedCookie('connect.sid', 'sess_2').replace('sess_2', 'sess_3');
    assert.equal(readCredential(koaContext({ headers: { cookie: forged } }), 'connect.sid'), null, 'signature of another value');
  });
});
