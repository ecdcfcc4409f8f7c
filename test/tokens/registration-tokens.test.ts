import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { decodeProtectedHeader } from 'jose';
import { InvalidTokenError } from '../../src/errors.ts';
import type { Services } from '../../src/services.ts';
import { memoryServices } from '../helpers/units-services.ts';

/** Registration tokens name an identity with no actor yet: they must never pass for an actor's token, nor the reverse. */
describe('registration tokens', () => {
  let services: Services;
  before(async () => {
    services = await memoryServices();
  });

  it('carry the identity and actor type, under their own typ, for CUSTOMER_TOKEN_TTL', async () => {
    const token = await services.jwt.issueRegistration('authid_1', 'customer');
    assert.equal(decodeProtectedHeader(token).typ, 'registration+jwt');
    const claims = await services.jwt.verifyRegistration(token);
    assert.equal(claims.sub, 'authid_1');
    assert.equal(claims.auth_identity_id, 'authid_1');
    assert.equal(claims.actor_type, 'customer');
    assert.equal(claims.actor_id, '', 'no actor yet');
    assert.equal(claims.exp - claims.iat!, services.config.ttl.customer);
  });

  it('are refused where an actor token is expected, and an actor token is refused as a registration token', async () => {
    const registration = await services.jwt.issueRegistration('authid_2', 'customer');
    await assert.rejects(services.jwt.verify(registration), InvalidTokenError);
    const actor = await services.jwt.issue({ sub: 'cus_1', actorType: 'customer', scope: ['read'], sid: 'lin_1', ttlSeconds: 60 });
    await assert.rejects(services.jwt.verifyRegistration(actor.token), InvalidTokenError);
  });

  it('end when their sid is revoked (used once, or the sign-in ended)', async () => {
    const token = await services.jwt.issueRegistration('authid_3', 'user');
    const { sid } = await services.jwt.verifyRegistration(token);
    await services.revocations.revokeLineage(sid);
    await assert.rejects(services.jwt.verifyRegistration(token), /used or revoked/);
  });
});
