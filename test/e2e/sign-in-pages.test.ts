import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import axe from 'axe-core';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import * as client from 'openid-client';
import { createClient } from 'redis';
import { http, REDIS_URL, startTestServer, type TestServer } from '../helpers/harness.ts';
import { REDIRECT_URI, relyingParty } from '../oauth/flow.ts';
import { contrastRatio } from '../../src/branding/contrast.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = new URL('../../test-artifacts/pages/', import.meta.url);
const APP_HOME = 'https://app.example.com/';
const LOGO = 'https://app.example.com/logo.png';
const BRAND_LOGO = 'https://brand.example.com/logo.png';
// A 1×1 PNG for the logos.
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');

/** Every text element's colour and the first opaque background behind it (a string: run in the page as written). */
const CONTRAST_PAIRS = `(() => {
  const rgb = (c) => (c.match(/\\d+(\\.\\d+)?/g) || []).slice(0, 3).map(Number);
  const bgOf = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const bg = getComputedStyle(e).backgroundColor;
      if (bg && bg !== 'transparent' && !bg.startsWith('rgba(0, 0, 0, 0)')) return bg;
    }
    return 'rgb(255, 255, 255)';
  };
  return Array.from(document.querySelectorAll('button, a, p, label, h1, header span')).map((el) => ({
    what: el.tagName.toLowerCase() + '.' + el.className + ' ' + (el.textContent || '').trim().slice(0, 20),
    fg: rgb(getComputedStyle(el).color),
    bg: rgb(bgOf(el)),
  }));
})()`;

/**
 * The sign-in, consent, sign-up and password-reset pages as a person uses them, in Chromium:
 * post/redirect/get (Back and reload never resubmit, never dead-end), what consent shows, the
 * reset link read from the event stream as a mailer would, and every page checked by axe-core in
 * light and dark mode at 390 px and 1280 px, with screenshots in test-artifacts/pages/.
 */
describe(
  'sign-in, consent, sign-up and reset pages in Chromium',
  { skip: existsSync(CHROMIUM) ? false : 'Debian chromium is not installed' },
  () => {
    let srv: TestServer;
    let browser: Browser;
    let rp: client.Configuration;
    let staffRp: client.Configuration;
    let localRp: client.Configuration;
    const localApp = { server: undefined as Server | undefined, redirectUri: '', callbacks: [] as URL[] };
    const audited = new Set<string>();

    before(async () => {
      localApp.server = createServer((req, res) => {
        const url = new URL(req.url!, localApp.redirectUri);
        if (url.pathname === '/callback') localApp.callbacks.push(url);
        res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><html lang="en"><title>App</title><main>app</main></html>');
      });
      await new Promise<void>((r) => localApp.server!.listen(0, '127.0.0.1', r));
      localApp.redirectUri = `http://127.0.0.1:${(localApp.server.address() as AddressInfo).port}/callback`;
      srv = await startTestServer({ env: { SERVICE_NAME: 'Acme Sign-in', BRAND_LOGO_URL: BRAND_LOGO, BRAND_PRIMARY_COLOR: '#1f6f43' } });
      await srv.services.accounts.create({ actorType: 'customer', email: 'ada@example.com', password: 'ada password 1' });
      await srv.services.accounts.create({ actorType: 'customer', email: 'bob@example.com', password: 'bob password 1' });
      await srv.services.accounts.create({ actorType: 'user', email: 'staff@example.com', password: 'staff password 1' });
      const { secret } = await srv.services.oauthClients.create({
        clientId: 'shop-app',
        name: 'Shop App',
        redirectUris: [localApp.redirectUri],
        links: {
          logo_uri: LOGO,
          client_uri: APP_HOME,
          policy_uri: 'https://app.example.com/privacy',
          tos_uri: 'https://app.example.com/terms',
        },
      });
      rp = await relyingParty(srv.url, { clientId: 'shop-app', clientSecret: secret! });
      const staff = await srv.services.oauthClients.create({
        clientId: 'staff-app',
        name: 'Staff App',
        redirectUris: [localApp.redirectUri],
        loginActor: 'user',
      });
      staffRp = await relyingParty(srv.url, { clientId: 'staff-app', clientSecret: staff.secret! });
      const local = await srv.services.oauthClients.create({
        clientId: 'local-app',
        name: 'Local App',
        redirectUris: [localApp.redirectUri],
      });
      localRp = await relyingParty(srv.url, { clientId: 'local-app', clientSecret: local.secret! });
      await mkdir(ARTIFACTS, { recursive: true });
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
      });
    });
    after(async () => {
      await browser?.close();
      localApp.server?.close();
      await srv?.close();
    });

    /**
     * A browser profile whose logos are served by the test; console errors collected. A page that
     * explains an error answers 4xx on purpose, which Chromium logs for the document itself: not an
     * error of the page, so not collected.
     */
    async function open(): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
      const context = await browser.newContext();
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('console', (m) => {
        if (m.type() !== 'error') return;
        if (/^Failed to load resource: the server responded with a status of 4\d\d/.test(m.text()) && m.location().url === page.url())
          return;
        errors.push(m.text());
      });
      page.on('pageerror', (e) => errors.push(e.message));
      await context.route('https://app.example.com/**', (route) => route.fulfill({ status: 200, contentType: 'image/png', body: PNG }));
      await context.route('https://brand.example.com/**', (route) => route.fulfill({ status: 200, contentType: 'image/png', body: PNG }));
      return { context, page, errors };
    }

    async function authorizationUrl(scope: string, relying = rp, state = client.randomState(), redirectUri = localApp.redirectUri) {
      return client.buildAuthorizationUrl(relying, {
        redirect_uri: redirectUri,
        scope,
        state,
        code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
        code_challenge_method: 'S256',
      }).href;
    }

    /**
     * axe-core (no serious or critical violation) and a screenshot, in light and dark mode at 390 px
     * and 1280 px; then the page as it was (light, 1280 px). axe is evaluated over the DevTools
     * protocol: the pages' CSP allows no script, and stays on.
     */
    async function check(page: Page, name: string) {
      for (const scheme of ['light', 'dark'] as const) {
        for (const width of [390, 1280]) {
          await page.emulateMedia({ colorScheme: scheme });
          await page.setViewportSize({ width, height: 900 });
          await page.evaluate(axe.source);
          const result = await page.evaluate(() =>
            (globalThis as unknown as { axe: typeof axe }).axe.run(document, { resultTypes: ['violations'] }),
          );
          const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
          assert.deepEqual(
            bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
            [],
            `${name} (${scheme}, ${width}px): axe violations`,
          );
          // Nothing wider than the screen (no sideways scrolling on a phone).
          const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
          assert.ok(overflow <= 0, `${name} (${scheme}, ${width}px) scrolls sideways by ${overflow}px`);
          await page.screenshot({ path: new URL(`${name}-${scheme}-${width}.png`, ARTIFACTS).pathname, fullPage: true });
        }
      }
      await page.emulateMedia({ colorScheme: 'light' });
      await page.setViewportSize({ width: 1280, height: 900 });
      audited.add(name);
    }

    const text = (page: Page) => page.locator('main').innerText();

    async function resetLinkFor(email: string): Promise<string> {
      const redis = createClient({ url: REDIS_URL });
      await redis.connect();
      try {
        for (let i = 0; i < 100; i++) {
          const entries = await redis.xRange(`${srv.prefix}events:auth`, '-', '+');
          const mine = entries.map((e) => e.message).filter((m) => m.event === 'auth.password_reset' && m.entity_id === email);
          if (mine.length) return mine.at(-1)!.url!;
          await new Promise((r) => setTimeout(r, 50));
        }
        assert.fail(`no auth.password_reset event for ${email}`);
      } finally {
        await redis.close();
      }
    }

    it('signs in with the keyboard after a failed attempt; the error is shown after a redirect, reload resubmits nothing, and the page is accessible', async () => {
      const { context, page, errors } = await open();
      await page.goto(await authorizationUrl('openid email'));
      assert.equal(await page.title(), 'Sign in to Shop App');
      assert.match(await page.locator('header').innerText(), /Acme Sign-in/);
      assert.equal(await page.locator('header img').getAttribute('src'), BRAND_LOGO);
      await check(page, 'sign-in');
      const loginUrl = page.url();

      const posts: string[] = [];
      page.on('request', (r) => {
        if (r.method() === 'POST') posts.push(r.url());
      });
      // Keyboard only: the email field has the focus; Tab to the password; Enter submits.
      await page.keyboard.type('ada@example.com');
      await page.keyboard.press('Tab');
      await page.keyboard.type('not the password');
      const [posted] = await Promise.all([page.waitForResponse((r) => r.request().method() === 'POST'), page.keyboard.press('Enter')]);
      assert.equal(posted.status(), 303);
      await page.getByRole('alert').waitFor();
      assert.equal(page.url(), loginUrl);
      assert.equal(posts.length, 1);
      assert.match(await page.getByRole('alert').innerText(), /The email or password is incorrect/);
      assert.equal(await page.title(), 'Error: The email or password is incorrect. – Sign in to Shop App');
      assert.equal(await page.getByLabel('Email').inputValue(), 'ada@example.com');
      assert.equal(await page.getByLabel('Email').getAttribute('aria-invalid'), 'true');
      assert.equal(await page.getByLabel('Password').getAttribute('aria-invalid'), 'true');
      assert.equal(await page.evaluate(() => document.activeElement?.id), 'password', 'the focus is on the password field');
      await check(page, 'sign-in-error');

      // Reload: a GET of the same page, no resubmission; the error was shown once.
      const reload = await page.reload();
      assert.equal(reload?.request().method(), 'GET');
      assert.equal(posts.length, 1, 'reload posted nothing');
      assert.equal(await page.getByRole('alert').count(), 0);

      await page.getByLabel('Email').fill('ada@example.com');
      await page.getByLabel('Password').focus();
      await page.keyboard.type('ada password 1');
      await page.keyboard.press('Enter');
      await page.getByRole('button', { name: 'Allow' }).waitFor();
      // Keyboard: Tab reaches Allow, Space presses it.
      await page.getByRole('button', { name: 'Allow' }).focus();
      await page.keyboard.press('Space');
      await page.waitForURL((u) => u.href.startsWith(localApp.redirectUri));
      assert.ok(localApp.callbacks.at(-1)?.searchParams.get('code'));
      assert.deepEqual(errors, []);
      await context.close();
    });

    it('consent shows the logo, name, home page, redirect domain, privacy and terms links, and every scope held after a grown grant, the new ones marked', async () => {
      const { context, page, errors } = await open();
      await page.goto(await authorizationUrl('openid email'));
      await page.getByLabel('Email').fill('bob@example.com');
      await page.getByLabel('Password').fill('bob password 1');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('button', { name: 'Allow' }).waitFor();
      assert.equal(await page.title(), 'Allow Shop App access? – Acme Sign-in');
      assert.equal(await page.getByRole('img', { name: 'Shop App logo' }).getAttribute('src'), LOGO);
      const body = await text(page);
      assert.match(body, /Signed in as bob@example\.com/);
      assert.match(body, /You will be sent to 127\.0\.0\.1:\d+/);
      for (const [name, href] of [
        ['Home page', APP_HOME],
        ['Privacy policy', 'https://app.example.com/privacy'],
        ['Terms of service', 'https://app.example.com/terms'],
      ]) {
        const link = page.getByRole('link', { name });
        assert.equal(await link.getAttribute('href'), href);
        assert.equal(await link.getAttribute('rel'), 'noopener noreferrer');
      }
      assert.equal(await page.getByRole('link', { name: 'your account' }).getAttribute('href'), '/account');
      assert.match(body, /You can remove access at any time in your account/);
      await check(page, 'consent');
      await page.getByRole('button', { name: 'Allow' }).click();
      await page.waitForURL((u) => u.href.startsWith(localApp.redirectUri));

      // The app asks for more: the consent lists what it already holds and what is new.
      await page.goto(await authorizationUrl('openid email read'));
      await page.getByRole('button', { name: 'Allow' }).waitFor();
      const items = await page.locator('ul.scopes li').allInnerTexts();
      const line = (scope: string) => items.find((i) => i.includes(`(${scope})`));
      assert.ok(line('email') && !/new/i.test(line('email')!), `email is held, not new: ${items.join(' | ')}`);
      assert.match(line('read') ?? '', /new/i, 'read is new');
      assert.match(await text(page), /asks for more access/);
      await check(page, 'consent-grown');
      assert.deepEqual(errors, []);
      await context.close();
    });

    it('Back from consent shows consent again; Back after Allow says the sign-in is complete and links to the app; Back after Deny returns access_denied to the app', async () => {
      const { context, page, errors } = await open();
      const state = 'back-state';
      await page.goto(await authorizationUrl('openid profile', rp, state));
      await page.getByLabel('Email').fill('ada@example.com');
      await page.getByLabel('Password').fill('ada password 1');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('button', { name: 'Allow' }).waitFor();
      const consentUrl = page.url();

      const back = await page.goBack();
      assert.ok(!back || back.status() < 400, `Back from consent: ${back?.status()}`);
      assert.equal(page.url(), consentUrl, 'the login page, already done, leads to the live consent page');
      await page.getByRole('button', { name: 'Allow' }).waitFor();
      const reloaded = await page.reload();
      assert.equal(reloaded?.status(), 200);
      await page.getByRole('button', { name: 'Allow' }).click();
      await page.waitForURL((u) => u.href.startsWith(localApp.redirectUri));
      assert.ok(localApp.callbacks.at(-1)?.searchParams.get('code'));

      const afterAllow = await page.goBack();
      assert.equal(afterAllow?.status(), 200);
      assert.match(await text(page), /You are signed in to Shop App/);
      assert.equal(await page.getByRole('link', { name: 'Go to Shop App' }).getAttribute('href'), APP_HOME);
      await check(page, 'back-after-allow');

      // Deny, then Back: the app hears access_denied (with its state), never a bare 400. (An app
      // on a real loopback server: Chromium does not let the test intercept a redirect that
      // follows a history navigation.)
      await page.goto(await authorizationUrl('openid read write', localRp, 'deny-state', localApp.redirectUri));
      await page.getByRole('button', { name: 'Deny' }).click();
      await page.waitForURL((u) => u.href.startsWith(localApp.redirectUri));
      assert.equal(localApp.callbacks.at(-1)?.searchParams.get('error'), 'access_denied');
      const count = localApp.callbacks.length;
      await page.goBack();
      await page.waitForURL((u) => u.href.startsWith(localApp.redirectUri));
      assert.equal(localApp.callbacks.length, count + 1);
      assert.equal(localApp.callbacks.at(-1)?.searchParams.get('error'), 'access_denied');
      assert.equal(localApp.callbacks.at(-1)?.searchParams.get('state'), 'deny-state');
      assert.deepEqual(errors, []);
      await context.close();
    });

    it('"Not you? Switch account" shows the sign-in page and continues as the other account', async () => {
      const { context, page, errors } = await open();
      await page.goto(await authorizationUrl('openid email'));
      await page.getByLabel('Email').fill('ada@example.com');
      await page.getByLabel('Password').fill('ada password 1');
      await page.getByRole('button', { name: 'Sign in' }).click();
      // ada already allowed "openid email": straight to the app. Ask for more to see consent.
      await page.goto(await authorizationUrl('openid email write'));
      await page.getByRole('button', { name: 'Allow' }).waitFor();
      assert.match(await text(page), /Not ada@example\.com\?/);
      await page.getByRole('button', { name: 'Switch account' }).click();
      await page.getByLabel('Password').waitFor();
      assert.match(await page.title(), /Sign in to Shop App/);
      await page.getByLabel('Email').fill('bob@example.com');
      await page.getByLabel('Password').fill('bob password 1');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('button', { name: 'Allow' }).waitFor();
      assert.match(await text(page), /Signed in as bob@example\.com/);
      assert.deepEqual(errors, []);
      await context.close();
    });

    it('forgot password end to end: the same answer for any email, the link from the event stream, the policy, single use, back to the app', async () => {
      await srv.services.accounts.create({ actorType: 'customer', email: 'reset@example.com', password: 'old password 1' });
      const { context, page, errors } = await open();
      await page.goto(await authorizationUrl('openid email'));
      const loginUrl = page.url();
      await page.getByRole('link', { name: 'Forgot password?' }).click();
      assert.equal(new URL(page.url()).pathname, '/account/forgot');
      await check(page, 'forgot');
      await page.getByLabel('Email').fill('nobody-here@example.com');
      await page.getByRole('button', { name: 'Send the link' }).click();
      await page.getByText('Check your email', { exact: true }).waitFor();
      const unknownAnswer = await text(page);
      await check(page, 'forgot-sent');
      await page.goBack();
      await page.getByLabel('Email').fill('reset@example.com');
      await page.getByRole('button', { name: 'Send the link' }).click();
      await page.getByText('Check your email', { exact: true }).waitFor();
      assert.equal(await text(page), unknownAnswer, 'the same answer whether the email has an account');

      // The mailer's view: the event carries the token and the link built from RESET_URL_TEMPLATE.
      const link = await resetLinkFor('reset@example.com');
      assert.ok(link.startsWith(`${srv.url}/account/reset?token=`), link);
      await page.goto(link);
      assert.match(await page.title(), /Choose a new password/);
      await check(page, 'reset');
      await page.getByLabel('New password', { exact: true }).fill('password');
      await page.getByLabel('Repeat the new password').fill('password');
      await page.getByRole('button', { name: 'Set the new password' }).click();
      assert.match(await page.getByRole('alert').innerText(), /most commonly used/);
      assert.equal(await page.getByLabel('New password', { exact: true }).getAttribute('aria-invalid'), 'true');
      await check(page, 'reset-error');
      await page.getByLabel('New password', { exact: true }).fill('a brand new secret');
      await page.getByLabel('Repeat the new password').fill('a brand new secret');
      await page.getByRole('button', { name: 'Set the new password' }).click();
      // Back to the sign-in the user started from.
      await page.waitForURL((u) => u.href.startsWith(loginUrl));
      assert.match(await page.getByRole('status').innerText(), /password has been changed/);
      await page.getByLabel('Email').fill('reset@example.com');
      await page.getByLabel('Password').fill('a brand new secret');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('button', { name: 'Allow' }).click();
      await page.waitForURL((u) => u.href.startsWith(localApp.redirectUri));
      assert.ok(localApp.callbacks.at(-1)?.searchParams.get('code'));

      // Single use: the link now explains, with a way to ask again.
      const used = await page.goto(link);
      assert.equal(used?.status(), 400);
      assert.match(await text(page), /expired or was already used/);
      await check(page, 'reset-link-used');
      assert.deepEqual(errors, []);
      await context.close();
    });

    it('a reset without a sign-in to return to ends on a "password changed" page; staff reset as users', async () => {
      const { context, page, errors } = await open();
      await page.goto(await authorizationUrl('openid', staffRp));
      assert.match(await text(page), /staff account/);
      assert.equal(await page.getByRole('link', { name: 'Create an account' }).count(), 0, 'no self sign-up for staff');
      await page.getByRole('link', { name: 'Forgot password?' }).click();
      await page.getByLabel('Email').fill('staff@example.com');
      await page.getByRole('button', { name: 'Send the link' }).click();
      const link = await resetLinkFor('staff@example.com');
      await page.goto(link);
      await page.getByLabel('New password', { exact: true }).fill('staff new secret');
      await page.getByLabel('Repeat the new password').fill('staff new secret');
      await page.getByRole('button', { name: 'Set the new password' }).click();
      await page.getByLabel('Password').waitFor();
      assert.match(await text(page), /staff account/, 'back on the staff sign-in');
      const login = await http(`${srv.url}/auth/user/emailpass`, {
        method: 'POST',
        json: { email: 'staff@example.com', password: 'staff new secret' },
      });
      assert.equal(login.status, 200, 'the user account was reset');
      assert.deepEqual(errors, []);
      await context.close();

      // A request from the plain page (no sign-in) for a customer: the link's page ends on "Password changed".
      const plain = await open();
      await plain.page.goto(`${srv.url}/account/forgot`);
      await plain.page.getByLabel('Email').fill('bob@example.com');
      await plain.page.getByRole('button', { name: 'Send the link' }).click();
      await plain.page.getByText('Check your email', { exact: true }).waitFor();
      await plain.page.goto(await resetLinkFor('bob@example.com'));
      await plain.page.getByLabel('New password', { exact: true }).fill('bob new secret 2');
      await plain.page.getByLabel('Repeat the new password').fill('bob new secret 2');
      await plain.page.getByRole('button', { name: 'Set the new password' }).click();
      await plain.page.getByRole('heading', { name: 'Password changed' }).waitFor();
      assert.equal(new URL(plain.page.url()).pathname, '/account/reset/done');
      await check(plain.page, 'reset-done');
      assert.deepEqual(plain.errors, []);
      await plain.context.close();
    });

    it('sign-up creates a customer and continues the flow; a taken email is never confirmed', async () => {
      const { context, page, errors } = await open();
      await page.goto(await authorizationUrl('openid email'));
      await page.getByRole('link', { name: 'Create an account' }).click();
      await check(page, 'sign-up');
      await page.getByLabel('Email').fill('new.shopper@example.com');
      await page.getByLabel('Password').fill('short');
      await page.getByRole('button', { name: 'Create account' }).click();
      assert.match(await page.getByRole('alert').innerText(), /at least 8 characters/);
      await check(page, 'sign-up-error');
      await page.getByLabel('Password').fill('shopper secret 1');
      await page.getByRole('button', { name: 'Create account' }).click();
      await page.getByRole('button', { name: 'Allow' }).waitFor();
      assert.match(await text(page), /Signed in as new\.shopper@example\.com/);
      await page.getByRole('button', { name: 'Allow' }).click();
      await page.waitForURL((u) => u.href.startsWith(localApp.redirectUri));
      assert.ok(localApp.callbacks.at(-1)?.searchParams.get('code'));
      await context.close();

      // A taken email with another password: the same words as any failure, never "already exists".
      const taken = await open();
      await taken.page.goto(await authorizationUrl('openid email'));
      await taken.page.getByRole('link', { name: 'Create an account' }).click();
      await taken.page.getByLabel('Email').fill('ada@example.com');
      await taken.page.getByLabel('Password').fill('someone else 1');
      await taken.page.getByRole('button', { name: 'Create account' }).click();
      const said = await taken.page.getByRole('alert').innerText();
      assert.match(said, /could not create an account/);
      assert.doesNotMatch(said, /exists|taken|registered/i);
      assert.deepEqual([...errors, ...taken.errors], []);
      await taken.context.close();
    });

    it('CUSTOMER_SIGNUP=off hides sign-up and refuses its form', async () => {
      const off = await startTestServer({ env: { CUSTOMER_SIGNUP: 'off' }, store: 'memory' });
      try {
        const { secret } = await off.services.oauthClients.create({ clientId: 'shop-app', name: 'Shop App', redirectUris: [REDIRECT_URI] });
        const offRp = await relyingParty(off.url, { clientId: 'shop-app', clientSecret: secret! });
        const { context, page } = await open();
        await page.goto(await authorizationUrl('openid', offRp, client.randomState(), REDIRECT_URI));
        await page.getByLabel('Password').waitFor();
        assert.equal(await page.getByRole('link', { name: 'Create an account' }).count(), 0);
        await page.goto(`${page.url()}/signup`);
        assert.equal(await page.getByRole('button', { name: 'Create account' }).count(), 0, 'the sign-up URL leads to the sign-in page');
        await context.close();
      } finally {
        await off.close();
      }
    });

    it('names the service on the sign-out page, and the client and the redirect URI on developer error pages (escaped)', async () => {
      await srv.services.accounts.create({ actorType: 'customer', email: 'leaving@example.com', password: 'leaving password 1' });
      const { context, page, errors } = await open();
      await page.goto(await authorizationUrl('openid email'));
      await page.getByLabel('Email').fill('leaving@example.com');
      await page.getByLabel('Password').fill('leaving password 1');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('button', { name: 'Allow' }).click();
      await page.waitForURL((u) => u.href.startsWith(localApp.redirectUri));
      await page.goto(`${srv.url}/oauth/end-session`);
      assert.equal(await page.getByRole('heading').innerText(), 'Sign out of Acme Sign-in?');
      await check(page, 'sign-out');
      await page.getByRole('button', { name: 'Yes, sign me out' }).click();
      await page.getByRole('heading', { name: 'Signed out' }).waitFor();
      assert.match(await text(page), /You have signed out of Acme Sign-in/);
      await check(page, 'signed-out');

      const dialogs: string[] = [];
      page.on('dialog', async (d) => {
        dialogs.push(d.message());
        await d.dismiss();
      });
      const evil = 'https://app.example.com/cb?x=<script>alert(1)</script>';
      const url = new URL(await authorizationUrl('openid'));
      url.searchParams.set('redirect_uri', evil);
      const res = await page.goto(url.href);
      assert.equal(res?.status(), 400);
      const body = await text(page);
      assert.match(body, /Client: shop-app/);
      assert.ok(body.includes(`Redirect URI sent: ${evil}`), body);
      assert.equal(await page.locator('main script').count(), 0, 'the redirect URI is text, not markup');
      await check(page, 'developer-error');
      const unknown = new URL(url);
      unknown.searchParams.set('client_id', 'no-such-app');
      await page.goto(unknown.href);
      assert.match(await text(page), /Client: no-such-app/);
      assert.deepEqual(dialogs, []);
      // The provider's pages may log their own 400 as a failed resource: only script errors count here.
      assert.deepEqual(
        errors.filter((e) => !/status of 400/.test(e)),
        [],
      );
      await context.close();
    });

    it('an expired or foreign sign-in explains in words', async () => {
      const { context, page } = await open();
      const res = await page.goto(`${srv.url}/oauth/interaction/not-a-live-one`);
      assert.equal(res?.status(), 400);
      assert.match(await text(page), /has expired or was started in another browser/);
      await check(page, 'sign-in-expired');
      await context.close();
    });

    it('text and buttons reach WCAG AA contrast in light and dark mode (computed styles), default and branded colours', async () => {
      const plain = await startTestServer({ store: 'memory' });
      try {
        for (const base of [srv.url, plain.url]) {
          const context = await browser.newContext();
          const page = await context.newPage();
          await page.goto(`${base}/account/forgot`);
          for (const scheme of ['light', 'dark'] as const) {
            await page.emulateMedia({ colorScheme: scheme });
            const pairs = (await page.evaluate(CONTRAST_PAIRS)) as {
              what: string;
              fg: [number, number, number];
              bg: [number, number, number];
            }[];
            assert.ok(pairs.some((p) => p.what.startsWith('button.primary')));
            for (const p of pairs) {
              const ratio = contrastRatio(p.fg, p.bg);
              assert.ok(ratio >= 4.5, `${base} ${scheme}: ${p.what} has ${ratio.toFixed(2)}:1`);
            }
          }
          await context.close();
        }
      } finally {
        await plain.close();
      }
    });

    it('checked every page', () => {
      for (const name of [
        'sign-in',
        'sign-in-error',
        'consent',
        'consent-grown',
        'back-after-allow',
        'forgot',
        'forgot-sent',
        'reset',
        'reset-error',
        'reset-done',
        'reset-link-used',
        'sign-up',
        'sign-up-error',
        'sign-out',
        'signed-out',
        'developer-error',
        'sign-in-expired',
      ])
        assert.ok(audited.has(name), `${name} was not checked`);
    });
  },
);
