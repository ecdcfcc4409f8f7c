import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { http, startTestServer, type TestServer } from '../helpers/harness.ts';

/**
 * Every password login surface shares the back-off (per account, per address) and answers an
 * unknown account like a wrong password, in its own dialect; password reset answers the same
 * whether or not the account exists.
 */
describe('login back-off on every surface', () => {
  let srv: TestServer;
  let pk: string;
  before(async () => {
    srv = await startTestServer({ env: { TRUST_PROXY: '1' } });
    const admin = await srv.services.accounts.create({
      actorType: 'user',
      email: 'staff@example.com',
      password: 'correct horse',
      role: 'admin',
    });
    await srv.services.accounts.create({ actorType: 'customer', email: 'shopper@example.com', password: 'correct horse' });
    pk = (await srv.services.apiKeys.create({ type: 'publishable', title: 'storefront', createdBy: admin.id })).token;
  });
  after(() => srv?.close());

  const surfaces = [
    { name: 'POST /admin/auth/token', path: '/admin/auth/token', email: 'staff@example.com', headers: {} as Record<string, string> },
    { name: 'POST /auth/user/emailpass', path: '/auth/user/emailpass', email: 'staff@example.com', headers: {} },
    {
      name: 'POST /store/auth/token',
      path: '/store/auth/token',
      email: 'shopper@example.com',
      headers: {} as Record<string, string>,
      pk: true,
    },
    { name: 'POST /auth/customer/emailpass', path: '/auth/customer/emailpass', email: 'shopper@example.com', headers: {} },
  ];

  for (const [i, surface] of surfaces.entries()) {
    it(`${surface.name}: same answer for unknown and wrong, 429 in Medusa's dialect after five failures, then the owner gets in`, async () => {
      const call = (email: string, password: string, ip: string) =>
        http(`${srv.url}${surface.path}`, {
          method: 'POST',
          json: { email, password },
          headers: { 'x-forwarded-for': ip, ...(surface.pk ? { 'x-publishable-api-key': pk } : {}) },
        });
      const shape = (r: Awaited<ReturnType<typeof call>>) => ({ status: r.status, body: r.json, retryAfter: r.headers.get('retry-after') });
      const ghost = `ghost${i}@example.com`;
      // The account and the ghost side by side, so the 1 s back-off after the fifth failure is
      // met equally by both (one after the other, a slow hash could outlast it: a flaky test).
      for (let n = 0; n < 5; n++) {
        const [wrong, unknown] = (
          await Promise.all([call(surface.email, `wrong ${n}`, `198.51.100.${10 + i}`), call(ghost, `wrong ${n}`, `198.51.100.${20 + i}`)])
        ).map(shape);
        assert.equal(wrong!.status, 401);
        assert.deepEqual(wrong, unknown);
      }
      const [locked, lockedGhost] = (
        await Promise.all([call(surface.email, 'correct horse', `192.0.2.${10 + i}`), call(ghost, 'correct horse', `192.0.2.${20 + i}`)])
      ).map(shape) as [ReturnType<typeof shape>, ReturnType<typeof shape>];
      assert.equal(locked.status, 429);
      assert.equal(locked.body.type, 'too_many_requests');
      assert.deepEqual(Object.keys(locked.body).sort(), ['message', 'type']);
      assert.ok(Number(locked.retryAfter) >= 1);
      assert.deepEqual(locked, lockedGhost);
      await new Promise((r) => setTimeout(r, Number(locked.retryAfter) * 1000 + 100));
      assert.equal((await call(surface.email, 'correct horse', `192.0.2.${30 + i}`)).status, 200);
    });
  }

  it('password reset answers the same for an existing and an unknown account', async () => {
    const reset = (email: string) =>
      http(`${srv.url}/auth/customer/emailpass/reset-password`, { method: 'POST', json: { identifier: email } });
    const known = await reset('shopper@example.com');
    const unknown = await reset('nobody-here@example.com');
    assert.ok(known.status < 300, `reset answers success, got ${known.status}`);
    assert.equal(known.status, unknown.status);
    assert.equal(known.text, unknown.text);
  });
});
