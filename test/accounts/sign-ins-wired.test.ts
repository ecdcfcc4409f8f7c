import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { InvalidTokenError } from '../../src/errors.ts';
import { keys } from '../../src/store/keys.ts';
import { memoryServices } from '../helpers/units-services.ts';

/** "Sign out everywhere" (and a password reset) ends every kind of sign-in an account holds. */
describe('sign-ins', () => {
  async function withUser() {
    const services = await memoryServices();
    const user = await services.accounts.create({ actorType: 'user', email: 'everywhere@example.com', role: 'admin' });
    return { services, user };
  }

  it('ends a refresh family: no more rotation, its access tokens refused', async () => {
    const { services, user } = await withUser();
    const pair = await services.refreshFamilies.start({
      sub: user.id,
      actorType: 'user',
      scope: ['read'],
      accessTtl: 300,
      extra: { role: 'admin' },
    });
    await services.jwt.verify(pair.token);
    assert.equal(await services.signIns.endAll(user.id), 1);
    await assert.rejects(services.jwt.verify(pair.token), InvalidTokenError);
    await assert.rejects(services.refreshFamilies.rotate(pair.refresh_token), InvalidTokenError);
  });

  it('ends a token lineage and a cookie session', async () => {
    const { services, user } = await withUser();
    const exp = Date.now() + 3_600_000;
    const token = await services.jwt.issue({ sub: user.id, actorType: 'user', scope: ['read'], sid: 'lin_1', ttlSeconds: 300 });
    await services.signIns.add(user.id, 'lineage', 'lin_1', exp);
    const { id } = await services.sessions.create(
      {
        actor_id: user.id,
        actor_type: 'user',
        auth_identity_id: 'ai_1',
        app_metadata: {},
        scopes: ['read'],
        sid: 'lin_1',
        sign_in_ends_at: new Date(exp).toISOString(),
      },
      3600,
    );
    assert.ok(await services.sessions.get(id));
    assert.equal(await services.signIns.endAll(user.id), 2);
    await assert.rejects(services.jwt.verify(token.token), InvalidTokenError);
    assert.equal(await services.sessions.get(id), null, 'the session record is gone, so a copied cookie stops working too');
  });

  it('ends an OAuth session with the grants apps received through it, except those allowed to outlive it', async () => {
    const { services, user } = await withUser();
    const session = {
      accountId: user.id,
      authorizations: { app: { grantId: 'grant_online' }, offline: { grantId: 'grant_offline', persistsLogout: true } },
    };
    await services.store.put(keys.oauthModel('Session', 'oidc_sess_1'), JSON.stringify(session), { ttlSeconds: 3600 });
    await services.signIns.add(user.id, 'oauth-session', 'oidc_sess_1', Date.now() + 3_600_000);
    assert.equal(await services.signIns.endAll(user.id), 1);
    assert.equal(await services.revocations.isLineageRevoked('grant_online'), true);
    assert.equal(await services.revocations.isLineageRevoked('grant_offline'), false);
    assert.equal(await services.store.get(keys.oauthModel('Session', 'oidc_sess_1')), null);
  });

  it('ends only live sign-ins of that account, each once', async () => {
    const { services, user } = await withUser();
    const other = await services.accounts.create({ actorType: 'user', email: 'other@example.com' });
    await services.signIns.add(other.id, 'lineage', 'lin_other', Date.now() + 3_600_000);
    await services.signIns.add(user.id, 'lineage', 'lin_short', Date.now() + 50);
    await services.signIns.add(user.id, 'lineage', 'lin_long', Date.now() + 3_600_000);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(await services.signIns.endAll(user.id), 1, 'the expired sign-in is not ended again');
    assert.equal(await services.revocations.isLineageRevoked('lin_long'), true);
    assert.equal(await services.revocations.isLineageRevoked('lin_short'), false);
    assert.equal(await services.revocations.isLineageRevoked('lin_other'), false, 'another account is untouched');
    assert.equal(await services.signIns.endAll(user.id), 0, 'what was ended left the index');
  });
});
