import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { http, startTestServer, type TestServer } from '../../helpers/harness.ts';
import { assertAccessible, chromiumMissing, launchBrowser, signIn, strictPage } from '../../helpers/console-browser.ts';

const ADMIN = { email: 'chief@example.com', password: 'chief password 1' };

/** The main flow of each other page of the console, as an admin (and the signed-in user it acts on). */
describe('console: users, customers, publishable keys, OAuth clients, audit log', { skip: chromiumMissing }, () => {
  let srv: TestServer;
  let browser: Browser;

  before(async () => {
    srv = await startTestServer();
    await srv.services.accounts.create({ actorType: 'user', ...ADMIN, role: 'admin' });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await srv?.close();
  });

  const adminToken = async () => (await http(`${srv.url}/auth/user/emailpass`, { method: 'POST', json: ADMIN })).json.token as string;

  it('users: create, the user signs in, change role, disable ends the user’s sign-in, delete', async () => {
    const admin = await strictPage(browser, srv.url);
    const { page } = admin;
    await signIn(admin, ADMIN.email, ADMIN.password);
    await page.getByRole('navigation').getByRole('link', { name: 'Users' }).click();
    await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
    await page.getByRole('button', { name: 'Create user' }).click();
    const form = page.getByRole('dialog', { name: 'Create user' });
    await form.getByLabel('Email').fill('newdev@example.com');
    await form.getByLabel('Password').fill('short');
    await form.getByLabel('Role').selectOption('developer');
    admin.expect('/admin/users', 400);
    await form.getByRole('button', { name: 'Create' }).click();
    const error = form.locator('.error');
    await error.waitFor();
    // The password rule's message, tied to the field.
    const described = (await form.getByLabel('Password').getAttribute('aria-describedby')) ?? '';
    assert.ok(described.split(' ').includes((await error.getAttribute('id'))!), 'the error is tied to the field');
    await form.getByLabel('Password').fill('a long new developer password');
    await form.getByRole('button', { name: 'Create' }).click();
    await page.getByRole('heading', { level: 1, name: 'newdev@example.com' }).waitFor();
    const userId = new URL(page.url()).pathname.split('/').pop()!;

    // The new user signs in, in a browser of its own.
    const user = await strictPage(browser, srv.url);
    await signIn(user, 'newdev@example.com', 'a long new developer password');
    await user.page.getByRole('navigation').getByRole('link', { name: 'OAuth clients' }).waitFor();

    // Its sign-ins show on its page.
    await page.reload();
    const signIns = page.getByRole('region', { name: 'Sign-ins' });
    await signIns.getByRole('row').filter({ hasText: 'Cookie session' }).waitFor();
    await assertAccessible(page, 'a user page');

    // Change role: developer -> member.
    await page.getByRole('main').getByLabel('Role').selectOption('member');
    await page.getByRole('button', { name: 'Change role' }).click();
    await page.getByText('Role changed.').waitFor();
    const after = await http(`${srv.url}/admin/users/${userId}`, { headers: { authorization: `Bearer ${await adminToken()}` } });
    assert.equal(after.json.user.role, 'member');

    // Disable: every sign-in ends; the user's next click lands on the sign-in screen.
    await page.getByRole('button', { name: 'Disable' }).click();
    await page.getByText('Disabled: every sign-in ended.').waitFor();
    // The page shows the new state once it has read the user again.
    await page.getByRole('heading', { level: 2, name: /User.*Disabled/ }).waitFor();
    user.expect('/admin/', 401);
    await user.page.getByRole('navigation').getByRole('link', { name: 'Publishable keys' }).click();
    await user.page.getByText('Your session ended. Sign in again.').waitFor();
    await user.page.getByRole('button', { name: 'Sign in' }).waitFor();
    await user.close();

    // Enable, then delete (with confirmation).
    await page.getByRole('button', { name: 'Enable' }).click();
    await page.getByText('Enabled.').waitFor();
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('dialog', { name: 'Delete user?' }).getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
    assert.doesNotMatch(await page.getByRole('main').innerText(), /newdev@example\.com/);
    await admin.close();
  });

  it('customers: search, details, sign out, delete', async () => {
    await srv.services.accounts.create({ actorType: 'customer', email: 'shopper@example.com', password: 'shopper password 1' });
    await srv.services.accounts.create({ actorType: 'customer', email: 'other@example.com', password: 'other password 12' });
    const sp = await strictPage(browser, srv.url);
    const { page } = sp;
    await signIn(sp, ADMIN.email, ADMIN.password);
    await page.getByRole('navigation').getByRole('link', { name: 'Customers' }).click();
    await page.getByRole('searchbox', { name: 'Search by email' }).fill('shopper');
    await page.getByRole('main').getByRole('row').filter({ hasText: 'other@example.com' }).waitFor({ state: 'detached' });
    await page.getByRole('link', { name: 'shopper@example.com' }).click();
    await page.getByRole('heading', { level: 1, name: 'shopper@example.com' }).waitFor();
    await page.getByText('No live sign-ins.').waitFor();
    await page.getByRole('button', { name: 'Sign out everywhere' }).click();
    await page.getByRole('dialog', { name: 'Sign out everywhere?' }).getByRole('button', { name: 'Sign out everywhere' }).click();
    await page.getByText('Signed out everywhere.').waitFor();
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('dialog', { name: 'Delete customer?' }).getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('heading', { level: 1, name: 'Customers' }).waitFor();
    assert.equal(await srv.services.accounts.findByEmail('customer', 'shopper@example.com'), null);
    await sp.close();
  });

  it('publishable keys: create, add and remove a sales channel, revoke, delete', async () => {
    await srv.services.salesChannels.create({ name: 'Web shop' });
    const sp = await strictPage(browser, srv.url);
    const { page } = sp;
    await signIn(sp, ADMIN.email, ADMIN.password);
    await page.getByRole('navigation').getByRole('link', { name: 'Publishable keys' }).click();
    await page.getByRole('button', { name: 'Create' }).click();
    const form = page.getByRole('dialog', { name: 'Create publishable key' });
    await form.getByLabel('Title').fill('Storefront');
    await form.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { level: 1, name: 'Storefront' }).waitFor();
    const token = await page.locator('dd.mono').first().innerText();
    assert.match(token, /^pk_/);
    await page.getByLabel('Sales channel', { exact: true }).selectOption({ label: 'Web shop' });
    await page.getByRole('button', { name: 'Add' }).click();
    const channels = page.getByRole('region', { name: 'Sales channels of this key' });
    await channels.getByRole('row').filter({ hasText: 'Web shop' }).waitFor();
    await assertAccessible(page, 'a publishable key');
    await channels.getByRole('button', { name: 'Remove Web shop' }).click();
    await page.getByText('No sales channels: the storefront sees none.').waitFor();
    await page.getByRole('button', { name: 'Actions' }).click();
    await page.getByRole('button', { name: 'Revoke API key' }).click();
    await page.getByRole('dialog', { name: 'Revoke API key?' }).getByRole('button', { name: 'Revoke API key' }).click();
    await page.getByRole('heading', { level: 2, name: /Revoked/ }).waitFor();
    await page.getByRole('button', { name: 'Actions' }).click();
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('dialog', { name: 'Delete API key?' }).getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('heading', { level: 1, name: 'Publishable keys' }).waitFor();
    await page.getByText('No publishable keys yet.').waitFor();
    await sp.close();
  });

  it('OAuth clients: create shows the secret once; rotate shows a new one; delete', async () => {
    const sp = await strictPage(browser, srv.url);
    const { page } = sp;
    await signIn(sp, ADMIN.email, ADMIN.password);
    await page.getByRole('navigation').getByRole('link', { name: 'OAuth clients' }).click();
    await page.getByRole('button', { name: 'Create client' }).click();
    const form = page.getByRole('dialog', { name: 'Create OAuth client' });
    await form.getByLabel('Name').fill('Partner app');
    await form.getByLabel('Redirect URIs').fill('https://partner.example.com/callback');
    await form.getByLabel('Client credentials (service to service)').check();
    await form.getByLabel('Who signs in').selectOption('customer');
    await assertAccessible(page, 'the client form');
    await form.getByRole('button', { name: 'Create' }).click();
    const shown = page.getByRole('dialog', { name: /^Client .+ created$/ });
    const secret = await shown.getByLabel('Client secret').inputValue();
    assert.ok(secret.length >= 16);
    await shown.getByRole('button', { name: 'Close' }).click();
    await page.getByRole('heading', { level: 1, name: 'Partner app' }).waitFor();
    const clientId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
    assert.doesNotMatch(await page.content(), new RegExp(secret), 'the secret is shown once');
    // The secret works: a client-credentials token.
    const basic = (s: string) => `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(s)}`).toString('base64')}`;
    const token = (s: string) =>
      fetch(`${srv.url}/oauth/token`, {
        method: 'POST',
        headers: { authorization: basic(s), 'content-type': 'application/x-www-form-urlencoded' },
        body: 'grant_type=client_credentials',
      });
    assert.equal((await token(secret)).status, 200);

    await page.getByRole('button', { name: 'Rotate secret' }).click();
    await page.getByRole('dialog', { name: 'Rotate the client secret?' }).getByRole('button', { name: 'Rotate secret' }).click();
    const rotated = await page.getByRole('dialog', { name: 'New client secret' }).getByLabel('Client secret').inputValue();
    assert.notEqual(rotated, secret);
    await page.keyboard.press('Escape');
    assert.equal((await token(secret)).status, 401, 'the old secret stopped working');
    assert.equal((await token(rotated)).status, 200);
    await page.getByText('No account has granted this client access.').waitFor();
    await assertAccessible(page, 'a client page');

    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('dialog', { name: 'Delete OAuth client?' }).getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('heading', { level: 1, name: 'OAuth clients' }).waitFor();
    await page.getByText('No OAuth clients yet.').waitFor();
    await sp.close();
  });

  it('audit log: the events of what these tests did, filters, live tail, load more, export', async () => {
    const sp = await strictPage(browser, srv.url);
    const { page } = sp;
    await signIn(sp, ADMIN.email, ADMIN.password);
    await page.getByRole('navigation').getByRole('link', { name: 'Audit log' }).click();
    const events = page.getByRole('region', { name: 'Audit events' });
    for (const type of [
      'user.role_changed',
      'user.deleted',
      'customer.deleted',
      'oauth_client.created',
      'oauth_client.secret_rotated',
      'api_key.revoked',
    ])
      await events.getByRole('row').filter({ hasText: type }).first().waitFor();
    await assertAccessible(page, 'the audit log');

    // Filter by type.
    await page.getByLabel('Type').fill('oauth_client.created');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await events.getByRole('row').filter({ hasText: 'user.role_changed' }).waitFor({ state: 'detached' });
    // The old rows go before the filtered answer arrives: wait for it, then count.
    await events.getByRole('row').filter({ hasText: 'oauth_client.created' }).first().waitFor();
    assert.equal(await events.getByRole('row').filter({ hasText: 'oauth_client.created' }).count(), 1);

    // Live tail: an event recorded now shows up without reloading.
    await page.getByLabel('Type').fill('sales_channel.created');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByText('No events match.').waitFor();
    const created = await http(`${srv.url}/admin/sales-channels`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await adminToken()}` },
      json: { name: 'Tail test' },
    });
    assert.equal(created.status, 200);
    await events.getByRole('row').filter({ hasText: 'sales_channel.created' }).waitFor({ timeout: 20_000 });

    // Export: the NDJSON route, with the filters, authorised by the cookie.
    const href = await page.getByRole('link', { name: 'Export NDJSON' }).getAttribute('href');
    assert.match(href!, /^\/admin\/audit-events\/export\?type=sales_channel\.created$/);
    const exported = await page.evaluate((url) => fetch(url, { credentials: 'same-origin' }).then((r) => r.text()), href!);
    const lines = exported
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.equal(lines.length, 1);
    assert.equal(lines[0].type, 'sales_channel.created');

    // Load more: 50 a page; make more than that and page back.
    await page.getByLabel('Type').fill('');
    await page.getByLabel('Live: show new events as they happen').uncheck();
    const admin = await adminToken();
    for (let i = 0; i < 50; i++)
      await http(`${srv.url}/admin/sales-channels`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}` },
        json: { name: `c${i}` },
      });
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByRole('button', { name: 'Load more' }).click();
    await events.getByRole('row').filter({ hasText: 'user.role_changed' }).first().waitFor();
    await sp.close();
  });
});
