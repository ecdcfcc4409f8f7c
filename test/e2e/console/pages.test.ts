import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import { startTestServer, type TestServer } from '../../helpers/harness.ts';
import { assertAccessible, chromiumMissing, launchBrowser, screenshot, signIn, strictPage } from '../../helpers/console-browser.ts';

const ADMIN = { email: 'looker@example.com', password: 'looker password 1' };
const WIDTHS = [390, 1280] as const;
const SCHEMES = ['light', 'dark'] as const;

/**
 * Every page of the console at phone and desktop width, in light and dark: axe-core finds no
 * serious or critical violation (contrast included), nothing overflows the phone's width but a
 * table's own scroll region, and a screenshot of each is kept in test-artifacts/console/.
 */
describe('console: every page at 390 and 1280 px, light and dark', { skip: chromiumMissing }, () => {
  let srv: TestServer;
  let browser: Browser;
  const pages: { name: string; path: string; heading: string }[] = [];

  before(async () => {
    srv = await startTestServer();
    const s = srv.services;
    const admin = await s.accounts.create({ actorType: 'user', ...ADMIN, role: 'admin' });
    const user = await s.accounts.create({
      actorType: 'user',
      email: 'dev@example.com',
      password: 'developer password 1',
      role: 'developer',
    });
    const customer = await s.accounts.create({ actorType: 'customer', email: 'shopper@example.com', password: 'shopper password 1' });
    const channel = await s.salesChannels.create({ name: 'Web shop' });
    const { key: secret } = await s.apiKeys.create({
      type: 'secret',
      title: 'CI deploys',
      createdBy: admin.id,
      scopes: ['read'],
      expiresAt: null,
      rateLimit: null,
    });
    const { key: publishable } = await s.apiKeys.create({
      type: 'publishable',
      title: 'Storefront',
      createdBy: admin.id,
      scopes: null,
      expiresAt: null,
      rateLimit: null,
    });
    await s.apiKeys.changeSalesChannels(publishable.id, [channel.id], []);
    const { client } = await s.oauthClients.create({
      clientId: 'partner-app',
      name: 'Partner app',
      redirectUris: ['https://partner.example.com/cb'],
    });
    pages.push(
      { name: 'sign-in', path: '', heading: 'Portcullis console' },
      { name: 'overview', path: '/app', heading: 'Overview' },
      { name: 'secret-keys', path: '/app/api-keys', heading: 'Secret API keys' },
      { name: 'secret-key', path: `/app/api-keys/${secret.id}`, heading: 'CI deploys' },
      { name: 'publishable-keys', path: '/app/publishable-keys', heading: 'Publishable keys' },
      { name: 'publishable-key', path: `/app/publishable-keys/${publishable.id}`, heading: 'Storefront' },
      { name: 'users', path: '/app/users', heading: 'Users' },
      { name: 'user', path: `/app/users/${user.id}`, heading: 'dev@example.com' },
      { name: 'customers', path: '/app/customers', heading: 'Customers' },
      { name: 'customer', path: `/app/customers/${customer.id}`, heading: 'shopper@example.com' },
      { name: 'oauth-clients', path: '/app/oauth-clients', heading: 'OAuth clients' },
      { name: 'oauth-client', path: `/app/oauth-clients/${client.client_id}`, heading: 'Partner app' },
      { name: 'audit', path: '/app/audit', heading: 'Audit log' },
    );
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await srv?.close();
  });

  for (const width of WIDTHS)
    for (const scheme of SCHEMES)
      it(`${width} px, ${scheme}`, async () => {
        const sp = await strictPage(browser, srv.url, { width, scheme });
        const { page } = sp;
        sp.expect('/admin/users/me', 401);
        await page.goto('/app');
        await page.getByRole('heading', { level: 1, name: 'Portcullis console' }).waitFor();
        await assertAccessible(page, `sign-in at ${width} ${scheme}`);
        await screenshot(page, 'sign-in', width, scheme);
        await signIn(sp, ADMIN.email, ADMIN.password);
        for (const p of pages.filter((x) => x.path)) {
          await page.goto(p.path);
          await page.getByRole('heading', { level: 1, name: p.heading }).waitFor();
          // Every call of the page answered (so none is cut off by the next navigation).
          await sp.idle();
          assert.equal(await page.title(), `${p.heading} · Portcullis console`);
          await assertAccessible(page, `${p.name} at ${width} ${scheme}`);
          // Nothing wider than the screen: only a table's own labelled region scrolls sideways.
          assert.ok(
            await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth),
            `${p.name} overflows at ${width} px`,
          );
          await screenshot(page, p.name, width, scheme);
        }
        if (width === 390) {
          // The phone's menu: collapsed, opened by its button, closed again on navigation.
          const nav = page.getByRole('navigation', { name: 'Console' });
          assert.equal(await nav.isVisible(), false);
          await page.getByRole('button', { name: 'Menu' }).click();
          assert.equal(await page.getByRole('button', { name: 'Menu' }).getAttribute('aria-expanded'), 'true');
          await assertAccessible(page, `open menu at ${width} ${scheme}`);
          await screenshot(page, 'menu', width, scheme);
          await nav.getByRole('link', { name: 'Users' }).click();
          await page.getByRole('heading', { level: 1, name: 'Users' }).waitFor();
          assert.equal(await nav.isVisible(), false);
        }
        await sp.close();
      });

  it('works by keyboard alone: skip link, menu, a dialog that traps focus, closes on Escape and gives focus back', async () => {
    const sp = await strictPage(browser, srv.url);
    const { page } = sp;
    await signIn(sp, ADMIN.email, ADMIN.password);
    await page.goto('/app/api-keys');
    await page.getByRole('heading', { level: 1, name: 'Secret API keys' }).waitFor();
    // The page as a user meets it: loaded, its list in place, before the first key press.
    await sp.idle();
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate(() => location.hash), '#main');
    // Create by keyboard: focus the button, Enter, type a title; Tab stays inside the dialog.
    await page.getByRole('button', { name: 'Create' }).focus();
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog', { name: 'Create secret API key' });
    await dialog.waitFor();
    for (let i = 0; i < 8; i++) {
      await page.keyboard.press('Tab');
      assert.ok(
        await dialog.evaluate((d) => d.contains(document.activeElement) || document.activeElement === document.body),
        'focus stays in the dialog',
      );
    }
    // Where focus is the moment the dialog leaves the page (before the next paint), not only later.
    await page.evaluate(() => {
      const open = document.querySelector('dialog')!;
      new MutationObserver((_, observer) => {
        if (open.isConnected) return;
        document.body.dataset.focusAtClose = document.activeElement?.textContent ?? '';
        observer.disconnect();
      }).observe(document.body, { childList: true, subtree: true });
    });
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.equal(
      await page.evaluate(() => document.body.dataset.focusAtClose),
      'Create',
      'focus is back on the opener as the dialog closes',
    );
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Create');
    // Visible focus: the focused control draws an outline.
    await page.keyboard.press('Tab');
    await page.keyboard.press('Shift+Tab');
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    assert.equal(outline, 'solid');
    await sp.close();
  });
});
