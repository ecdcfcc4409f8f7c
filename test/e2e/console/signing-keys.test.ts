import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { decodeProtectedHeader, type JWK } from 'jose';
import type { Browser } from 'playwright-core';
import { http, startTestServer, type TestServer } from '../../helpers/harness.ts';
import { generateJwks } from '../../../src/tokens/generate-jwks.ts';
import { assertAccessible, chromiumMissing, launchBrowser, screenshot, signIn, strictPage } from '../../helpers/console-browser.ts';

const ADMIN = { email: 'keeper@example.com', password: 'keeper password 1' };
const DEV = { email: 'builder@example.com', password: 'builder password 1' };

const jwksKids = async (srv: TestServer) => ((await http(`${srv.url}/.well-known/jwks.json`)).json.keys as JWK[]).map((k) => k.kid);

/** The Signing keys page: rotation with its lead time, the compromise switch, and who may see it. */
describe('console: signing keys', { skip: chromiumMissing }, () => {
  let srv: TestServer;
  let browser: Browser;

  before(async () => {
    srv = await startTestServer();
    await srv.services.accounts.create({ actorType: 'user', ...ADMIN, role: 'admin' });
    await srv.services.accounts.create({ actorType: 'user', ...DEV, role: 'developer' });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await srv?.close();
  });

  it('an admin rotates (a next key is listed and published) and revokes a key (gone from the JWKS, its token refused)', async () => {
    // A token signed by the key in use now, to be refused once that key is revoked.
    const login = await http(`${srv.url}/v1/auth/login`, { method: 'POST', json: { username: DEV.email, password: DEV.password } });
    assert.equal(login.status, 200, login.text);
    const token = login.json.token as string;
    const signer = decodeProtectedHeader(token).kid!;
    assert.equal((await http(`${srv.url}/v1/auth/verify`, { headers: { authorization: `Bearer ${token}` } })).status, 200);

    const sp = await strictPage(browser, srv.url);
    const { page } = sp;
    await signIn(sp, ADMIN.email, ADMIN.password);
    await page.getByRole('navigation').getByRole('link', { name: 'Signing keys' }).click();
    await page.getByRole('heading', { level: 1, name: 'Signing keys' }).waitFor();
    const table = page.getByRole('region', { name: 'Signing keys' });
    const row = (kid: string) => table.getByRole('row').filter({ hasText: kid });
    await row(signer).getByText('Current', { exact: true }).waitFor();
    assert.equal(await table.getByText('Next', { exact: true }).count(), 0);

    // Rotate: the dialog explains the lead time; the new key is listed as next and published at once.
    await page.getByRole('button', { name: 'Rotate keys' }).click();
    const rotate = page.getByRole('dialog', { name: 'Rotate the signing keys?' });
    await rotate.getByText(/signs only after the lead time/).waitFor();
    await assertAccessible(page, 'the rotate dialog');
    await rotate.getByRole('button', { name: 'Rotate keys' }).click();
    await rotate.waitFor({ state: 'detached' });
    await page
      .getByRole('status')
      .getByText(/Rotated: the new key signs from/)
      .waitFor();
    await table.getByText('Next', { exact: true }).first().waitFor();
    const listed = await http(`${srv.url}/admin/signing-keys`, {
      headers: { authorization: `Bearer ${(await http(`${srv.url}/auth/user/emailpass`, { method: 'POST', json: ADMIN })).json.token}` },
    });
    const next = (listed.json.signing_keys as { kid: string; state: string }[]).filter((k) => k.state === 'next');
    assert.ok(next.length > 0, listed.text);
    for (const k of next) {
      await row(k.kid).getByText('Next', { exact: true }).waitFor();
      assert.ok((await jwksKids(srv)).includes(k.kid), `${k.kid} is in the JWKS`);
    }

    // A second rotation while a key waits says when that key signs.
    await page.getByRole('button', { name: 'Rotate keys' }).click();
    await page
      .getByRole('dialog', { name: 'Rotate the signing keys?' })
      .getByText(/already waiting as next/)
      .waitFor();
    await page.keyboard.press('Escape');

    // Revoke the key that signed the token: the dialog says what revoking does.
    assert.ok((await jwksKids(srv)).includes(signer));
    await row(signer)
      .getByRole('button', { name: `Revoke ${signer}` })
      .click();
    const revoke = page.getByRole('dialog', { name: `Revoke key ${signer}?` });
    await revoke.getByText(/Every token this key signed is refused at once, on every instance/).waitFor();
    await assertAccessible(page, 'the revoke dialog');
    await revoke.getByRole('button', { name: 'Revoke key' }).click();
    await revoke.waitFor({ state: 'detached' });
    await row(signer).getByText('Revoked', { exact: true }).waitFor();
    assert.equal(
      await row(signer)
        .getByRole('button', { name: /Revoke/ })
        .count(),
      0,
      'a revoked key offers no Revoke',
    );
    assert.ok(!(await jwksKids(srv)).includes(signer), 'the revoked key left the JWKS');
    const refused = await http(`${srv.url}/v1/auth/verify`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(refused.status, 401, refused.text);
    await sp.close();
  });

  for (const width of [390, 1280] as const)
    for (const scheme of ['light', 'dark'] as const)
      it(`the page at ${width} px, ${scheme}: accessible, nothing overflows`, async () => {
        const sp = await strictPage(browser, srv.url, { width, scheme });
        const { page } = sp;
        await signIn(sp, ADMIN.email, ADMIN.password);
        await page.goto('/app/signing-keys');
        await page.getByRole('heading', { level: 1, name: 'Signing keys' }).waitFor();
        await page.getByRole('region', { name: 'Signing keys' }).waitFor();
        await sp.idle();
        assert.equal(await page.title(), 'Signing keys · Portcullis console');
        await assertAccessible(page, `signing keys at ${width} ${scheme}`);
        assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), `overflows at ${width} px`);
        await screenshot(page, 'signing-keys', width, scheme);
        await sp.close();
      });

  it('a developer sees no Signing keys entry, and the API refuses its cookie’s rotation (403)', async () => {
    const sp = await strictPage(browser, srv.url);
    const { page } = sp;
    await signIn(sp, DEV.email, DEV.password);
    const nav = page.getByRole('navigation', { name: 'Console' });
    await nav.getByRole('link', { name: 'OAuth clients' }).waitFor();
    assert.equal(await nav.getByRole('link', { name: 'Signing keys' }).count(), 0);
    sp.expect('/admin/signing-keys/rotate', 403);
    const status = await page.evaluate(async () => {
      const res = await fetch('/admin/signing-keys/rotate', {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: '{}',
      });
      return res.status;
    });
    assert.equal(status, 403);
    await sp.close();
  });

  it('with SIGNING_KEYS=static the page says the keys are managed outside and shows the API’s refusal', async () => {
    const fixed = await startTestServer({ env: { JWKS: JSON.stringify(await generateJwks()), SIGNING_KEYS: 'static' } });
    try {
      await fixed.services.accounts.create({ actorType: 'user', ...ADMIN, role: 'admin' });
      const sp = await strictPage(browser, fixed.url);
      const { page } = sp;
      await signIn(sp, ADMIN.email, ADMIN.password);
      await page.goto('/app/signing-keys');
      await page.getByText(/managed outside Portcullis/).waitFor();
      await page.getByRole('button', { name: 'Rotate keys' }).click();
      const rotate = page.getByRole('dialog', { name: 'Rotate the signing keys?' });
      sp.expect('/admin/signing-keys/rotate', 400);
      await rotate.getByRole('button', { name: 'Rotate keys' }).click();
      await rotate
        .getByRole('alert')
        .getByText(/SIGNING_KEYS=static/)
        .waitFor();
      await assertAccessible(page, 'the refused rotation');
      await page.keyboard.press('Escape');
      await rotate.waitFor({ state: 'detached' });
      await sp.close();
    } finally {
      await fixed.close();
    }
  });
});
