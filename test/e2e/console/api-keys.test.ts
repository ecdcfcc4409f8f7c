import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { http, startTestServer, type TestServer } from '../../helpers/harness.ts';
import { assertAccessible, chromiumMissing, launchBrowser, signIn, strictPage, type StrictPage } from '../../helpers/console-browser.ts';

const ADMIN = { email: 'admin@example.com', password: 'admin password 1' };
const DEVELOPER = { email: 'dev@example.com', password: 'developer password 1' };
const MEMBER = { email: 'member@example.com', password: 'member password 1' };

/** Settings → Secret API Keys, step by step as the reference user guide walks through it. */
describe('console: Secret API keys, as the user guide walks through them', { skip: chromiumMissing }, () => {
  let srv: TestServer;
  let browser: Browser;
  let developerKeyId = '';

  before(async () => {
    srv = await startTestServer();
    await srv.services.accounts.create({ actorType: 'user', ...ADMIN, role: 'admin' });
    await srv.services.accounts.create({ actorType: 'user', ...DEVELOPER, role: 'developer' });
    await srv.services.accounts.create({ actorType: 'user', ...MEMBER, role: 'member' });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await srv?.close();
  });

  const me = (token: string) => http(`${srv.url}/admin/users/me`, { headers: { authorization: `Bearer ${token}` } });

  /** Create → title → Save → the key once, with Copy; returns the key's id after walking details, edit, revoke, delete. */
  async function walkGuide(sp: StrictPage, who: { email: string }, title: string): Promise<void> {
    const { page } = sp;
    // View: Settings → Secret API Keys.
    await page.getByRole('navigation').getByRole('link', { name: 'Secret API keys' }).click();
    await page.getByRole('heading', { level: 1, name: 'Secret API keys' }).waitFor();
    assert.equal(await page.title(), 'Secret API keys · Portcullis console');

    // Create: the Create button, a title, Save, then a pop-up with the key.
    await page.getByRole('button', { name: 'Create' }).click();
    const form = page.getByRole('dialog', { name: 'Create secret API key' });
    await form.getByRole('button', { name: 'Save' }).click();
    assert.match(await form.getByText('Enter a title.').innerText(), /Enter a title/);
    await form.getByLabel('Title').fill(title);
    await assertAccessible(page, 'the create form');
    await form.getByRole('button', { name: 'Save' }).click();
    const shown = page.getByRole('dialog', { name: 'Secret API key created' });
    const token = await shown.getByLabel('Secret API key').inputValue();
    assert.match(token, /^sk_[0-9a-f]{64}$/);
    await shown.getByRole('button', { name: 'Copy' }).click();
    await shown.getByText('Copied to the clipboard').waitFor();
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), token);
    await assertAccessible(page, 'the key dialog');
    // The key works: it calls the Admin API as its creator.
    const asKey = await me(token);
    assert.equal(asKey.status, 200);
    assert.equal(asKey.json.user.email, who.email);
    // Closing the pop-up loses the key: it is nowhere on the page any more.
    await page.keyboard.press('Escape');
    await shown.waitFor({ state: 'detached' });
    assert.equal(await page.getByRole('button', { name: 'Create' }).evaluate((b) => b === document.activeElement), true, 'focus returns');
    assert.doesNotMatch(await page.content(), new RegExp(token));

    // The list: search, filter, sort.
    const table = page.getByRole('region', { name: 'Secret API keys' });
    const row = table.getByRole('row').filter({ hasText: title });
    await row.waitFor();
    assert.match(await row.innerText(), /Active/);
    await page.getByRole('searchbox', { name: 'Search' }).fill('no such key');
    await page.getByText('No secret API keys match.').waitFor();
    await page.getByRole('searchbox', { name: 'Search' }).fill(title.slice(0, 6));
    await row.waitFor();
    await page.getByLabel('Status').selectOption('revoked');
    await page.getByText('No secret API keys match.').waitFor();
    await page.getByLabel('Status').selectOption('active');
    await row.waitFor();
    await page.getByLabel('Sort by').selectOption('title');
    await row.waitFor();
    await assertAccessible(page, 'the key list');

    // Details: click the key in the list.
    await row.click();
    await page.getByRole('heading', { level: 1, name: title }).waitFor();
    const id = new URL(page.url()).pathname.split('/').pop()!;
    const card = page.getByRole('region', { name: /Secret API key/ });
    assert.match(await card.getByRole('heading', { level: 2 }).innerText(), /Active/);
    const facts = await card.locator('dl').innerText();
    assert.match(facts, /sk_[0-9a-f]{3}\*\*\*[0-9a-f]{3}|sk_\w+…\w+|sk_.+/);
    assert.doesNotMatch(facts, new RegExp(token));
    assert.match(facts, new RegExp(`Created by\\s+${who.email.replace('.', '\\.')} \\(you\\)`));
    assert.match(facts, /Last used/);
    await assertAccessible(page, 'the key details');

    // Edit: the … menu, Edit, a new title, Save.
    await page.getByRole('button', { name: 'Actions' }).click();
    await page.getByRole('button', { name: 'Edit' }).click();
    const edit = page.getByRole('dialog', { name: 'Edit API key' });
    await edit.getByLabel('Title').fill(`${title} (renamed)`);
    await edit.getByRole('button', { name: 'Save' }).click();
    await page.getByRole('heading', { level: 1, name: `${title} (renamed)` }).waitFor();
    assert.equal((await me(token)).status, 200, 'renaming keeps the key working');

    // Revoke: the … menu, Revoke API key, confirm in the pop-up.
    await page.getByRole('button', { name: 'Actions' }).click();
    await page.getByRole('button', { name: 'Revoke API key' }).click();
    const revoke = page.getByRole('dialog', { name: 'Revoke API key?' });
    await assertAccessible(page, 'the revoke confirmation');
    await revoke.getByRole('button', { name: 'Revoke API key' }).click();
    await card.getByRole('heading', { level: 2, name: /Revoked/ }).waitFor();
    assert.equal((await me(token)).status, 401, 'a revoked key stops working');

    // Delete (only a revoked key): the … menu, Delete, confirm.
    await page.getByRole('button', { name: 'Actions' }).click();
    await page.getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('dialog', { name: 'Delete API key?' }).getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('heading', { level: 1, name: 'Secret API keys' }).waitFor();
    const gone = await http(`${srv.url}/admin/api-keys/${id}`, { headers: { authorization: `Bearer ${await adminToken()}` } });
    assert.equal(gone.status, 404);
  }

  async function adminToken(): Promise<string> {
    const res = await http(`${srv.url}/auth/user/emailpass`, { method: 'POST', json: ADMIN });
    return res.json.token;
  }

  async function createKey(page: Page, title: string): Promise<string> {
    await page.getByRole('button', { name: 'Create' }).click();
    const form = page.getByRole('dialog', { name: 'Create secret API key' });
    await form.getByLabel('Title').fill(title);
    await form.getByRole('button', { name: 'Save' }).click();
    const shown = page.getByRole('dialog', { name: 'Secret API key created' });
    await shown.getByRole('button', { name: 'Close' }).click();
    const row = page.getByRole('region', { name: 'Secret API keys' }).getByRole('row').filter({ hasText: title });
    await row.getByRole('link').click();
    await page.getByRole('heading', { level: 1, name: title }).waitFor();
    const id = new URL(page.url()).pathname.split('/').pop()!;
    await page.getByRole('link', { name: '← Secret API keys' }).click();
    return id;
  }

  it('as a developer: create, copy a working key, details, edit title, revoke (the key stops working), delete', async () => {
    const sp = await strictPage(browser, srv.url);
    await signIn(sp, DEVELOPER.email, DEVELOPER.password);
    await walkGuide(sp, DEVELOPER, 'Developer CI key');
    developerKeyId = await createKey(sp.page, 'Developer kept key');
    // A developer sees only its own keys, with no switch to see everyone's.
    assert.equal(await sp.page.getByLabel("Show every user's keys").count(), 0);
    await sp.close();
  });

  it('as an admin: the same flow; its own keys by default, every user’s with the switch; no token in web storage', async () => {
    const sp = await strictPage(browser, srv.url);
    await signIn(sp, ADMIN.email, ADMIN.password);
    assert.deepEqual(await sp.page.evaluate(() => [localStorage.length, sessionStorage.length]), [0, 0]);
    await walkGuide(sp, ADMIN, 'Admin deploy key');
    const { page } = sp;
    const table = page.getByRole('main');
    await page.getByRole('heading', { level: 1, name: 'Secret API keys' }).waitFor();
    assert.doesNotMatch(await table.innerText(), /Developer kept key/);
    await page.getByLabel("Show every user's keys").check();
    await table.getByRole('row').filter({ hasText: 'Developer kept key' }).waitFor();
    assert.deepEqual(await page.evaluate(() => [localStorage.length, sessionStorage.length]), [0, 0]);
    // Sign out: back to the sign-in screen, and the cookie no longer works.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    sp.expect('/admin/users/me', 401);
    await page.reload();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await sp.close();
  });

  it('as a member: no write controls, and a write with the member’s cookie is refused (403)', async () => {
    const sp = await strictPage(browser, srv.url);
    const { page } = sp;
    // A wrong password: an alert on the sign-in screen, nothing else.
    sp.expect('/admin/users/me', 401);
    sp.expect('/auth/user/emailpass', 401);
    await page.goto('/app');
    await page.getByLabel('Email').fill(MEMBER.email);
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    assert.match(await page.getByRole('alert').innerText(), /invalid|incorrect|wrong/i);
    assert.equal(await page.getByText('Your session ended').count(), 0);
    await signIn(sp, MEMBER.email, MEMBER.password);
    await page.getByRole('navigation').getByRole('link', { name: 'Secret API keys' }).click();
    await page.getByRole('heading', { level: 1, name: 'Secret API keys' }).waitFor();
    await page.getByText('No secret API keys yet.').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Create' }).count(), 0);
    // Another user's key, read only.
    await page.goto(`/app/api-keys/${developerKeyId}`);
    await page.getByRole('heading', { level: 1, name: 'Developer kept key' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Actions' }).count(), 0);
    await page.getByRole('navigation').getByRole('link', { name: 'Publishable keys' }).click();
    await page.getByRole('heading', { level: 1, name: 'Publishable keys' }).waitFor();
    await sp.idle();
    assert.equal(await page.getByRole('button', { name: 'Create' }).count(), 0);
    // The pages a member cannot use are not offered.
    const nav = await page.getByRole('navigation').innerText();
    assert.doesNotMatch(nav, /Users|Audit log|OAuth clients/);
    // The API refuses the write anyway, with the same cookie the page uses.
    sp.expect('/admin/api-keys', 403);
    // (No named function inside evaluate: tsx would wrap it in a helper the page does not have.)
    const statuses = await page.evaluate(
      (writes) =>
        Promise.all(
          writes.map(([path, body]) =>
            fetch(path, { method: 'POST', credentials: 'same-origin', headers: { 'Content-Type': 'application/json' }, body }).then(
              (r) => r.status,
            ),
          ),
        ),
      [
        ['/admin/api-keys', JSON.stringify({ title: 'sneaky', type: 'secret' })],
        [`/admin/api-keys/${developerKeyId}/revoke`, '{}'],
      ],
    );
    assert.deepEqual(statuses, [403, 403]);
    await sp.close();
  });
});
