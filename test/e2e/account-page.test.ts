import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import axe from 'axe-core';
import * as client from 'openid-client';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { chromiumMissing, launchBrowser } from '../helpers/console-browser.ts';
import { http, startTestServer, type TestServer } from '../helpers/harness.ts';
import { Browser as HttpBrowser } from '../oauth/browser.ts';
import { authorize, relyingParty, REDIRECT_URI } from '../oauth/flow.ts';

const ARTIFACTS = 'test-artifacts/account';
const PASSWORD = 'correct horse battery';
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';

describe('the account page in headless Chromium', { skip: chromiumMissing }, () => {
  let srv: TestServer;
  let browser: Browser;
  let rp: client.Configuration;
  const consoleErrors: string[] = [];
  const api = (path: string, init: RequestInit & { json?: unknown } = {}) => http(`${srv.url}${path}`, init);
  const verify = (token: string) => api('/v1/auth/verify', { headers: { authorization: `Bearer ${token}` } });
  const v1Login = (email: string, password: string, ua?: string) =>
    api('/v1/auth/login', {
      method: 'POST',
      json: { username: email, password, actor_type: 'customer' },
      headers: ua ? { 'user-agent': ua } : {},
    });

  async function newPage(context: BrowserContext): Promise<Page> {
    const page = await context.newPage();
    page.on('console', (m) => {
      // The browser's own request for /favicon.ico is not the page's (no page here links one).
      if (m.type() === 'error' && !m.location().url.endsWith('/favicon.ico')) consoleErrors.push(`${m.location().url}: ${m.text()}`);
    });
    page.on('pageerror', (e) => consoleErrors.push(`${page.url()}: ${e.message}`));
    return page;
  }

  /** axe-core on the page as it is, in light and dark, at phone and desktop width; a screenshot of each. */
  async function check(page: Page, state: string): Promise<void> {
    for (const scheme of ['light', 'dark'] as const) {
      for (const width of [390, 1280]) {
        await page.emulateMedia({ colorScheme: scheme });
        await page.setViewportSize({ width, height: 900 });
        await page.evaluate(axe.source);
        const result = (await page.evaluate(() =>
          (globalThis as unknown as { axe: typeof axe }).axe.run(document, { resultTypes: ['violations'] }),
        )) as axe.AxeResults;
        const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
        assert.deepEqual(
          bad.map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`),
          [],
          `${state} (${scheme}, ${width}px)`,
        );
        // Nothing wider than the screen on a phone.
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
        assert.ok(overflow <= 0, `${state} (${scheme}, ${width}px) scrolls sideways by ${overflow}px`);
        await page.screenshot({ path: `${ARTIFACTS}/${state}-${width}-${scheme}.png`, fullPage: true });
      }
    }
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 1280, height: 900 });
  }

  /**
   * Submit by clicking, and prove the page it lands on is a GET: reload and Back never resubmit.
   * Returns the message the landing page showed (shown once: the reload no longer shows it).
   */
  async function submitAndReload(page: Page, click: () => Promise<void>): Promise<string> {
    await Promise.all([page.waitForNavigation(), click()]);
    const flash = page.locator('.flash');
    const message = (await flash.count()) ? await flash.first().innerText() : '';
    const reloaded = await page.reload();
    assert.equal(reloaded?.request().method(), 'GET', `after a form post, ${page.url()} is a GET page`);
    assert.equal(reloaded?.status(), 200);
    assert.equal(await flash.count(), 0, 'a message is shown once');
    return message;
  }

  before(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    srv = await startTestServer();
    const created = await srv.services.oauthClients.create({
      clientId: 'photo-app',
      name: 'Photo app',
      redirectUris: [REDIRECT_URI],
      grantTypes: ['authorization_code', 'refresh_token'],
      loginActor: 'customer',
    });
    rp = await relyingParty(srv.url, { clientId: 'photo-app', clientSecret: created.secret! });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await srv?.close();
  });

  it('walks sign-in, sessions, connected apps, password and sign-out: accessible, post/redirect/get everywhere', async () => {
    const email = 'walk@example.com';
    await srv.services.accounts.create({ actorType: 'customer', email, password: PASSWORD, firstName: 'Ada' });
    // Another device, and an app connected through a real authorization code flow.
    const phone = (await v1Login(email, PASSWORD, FIREFOX)).json as { token: string; refresh_token: string };
    const flow = await authorize(rp, new HttpBrowser(), { email, password: PASSWORD, scope: 'openid read' });
    const app = await client.authorizationCodeGrant(rp, flow.callback, {
      pkceCodeVerifier: flow.codeVerifier,
      expectedState: flow.state,
      expectedNonce: flow.nonce,
    });
    assert.equal((await verify(app.access_token)).status, 200);

    const context = await browser.newContext();
    const page = await newPage(context);
    const first = await page.goto(`${srv.url}/account`);
    assert.equal(new URL(page.url()).pathname, '/account/sign-in');
    const csp = first!.headers()['content-security-policy'];
    assert.equal(
      csp,
      "default-src 'none'; style-src 'self'; img-src 'self' https: data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    );
    assert.equal(await page.locator('script').count(), 0, 'no script: the page works without JavaScript');
    // Reset links for either kind of account, each leading to the reset request page for that kind.
    assert.equal(await page.getByRole('link', { name: 'Forgot password?' }).getAttribute('href'), '/account/forgot?actor=customer');
    assert.equal(await page.getByRole('link', { name: 'reset a staff password' }).getAttribute('href'), '/account/forgot?actor=user');
    for (const actor of ['customer', 'user']) {
      const forgot = await page.request.get(`${srv.url}/account/forgot?actor=${actor}`);
      assert.equal(forgot.status(), 200, actor);
      assert.match(await forgot.text(), /<form[^>]+method="post"/, actor);
    }
    await check(page, 'sign-in');

    // A wrong password: the error is announced, both fields marked, focus on the password.
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('not the password');
    assert.match(await submitAndReload(page, () => page.getByRole('button', { name: 'Sign in' }).click()), /not correct/);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('not the password');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Sign in' }).click()]);
    assert.match(await page.getByRole('alert').innerText(), /not correct/);
    assert.equal(await page.getByLabel('Email').inputValue(), email);
    assert.equal(await page.getByLabel('Email').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.getByLabel('Password').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'password');
    assert.match(await page.title(), /Sign in failed/);
    await check(page, 'sign-in-error');

    await page.getByLabel('Password').fill(PASSWORD);
    await submitAndReload(page, () => page.getByRole('button', { name: 'Sign in' }).click());
    assert.equal(new URL(page.url()).pathname, '/account');
    assert.equal(await page.title(), 'Your account');
    const main = () => page.locator('main').innerText();
    assert.match(await main(), /walk@example\.com/);
    assert.equal(await page.getByLabel('First name').inputValue(), 'Ada');
    // Sessions: this browser, marked, and the phone's sign-in with its browser and address.
    const sessions = page.locator('section', { has: page.getByRole('heading', { name: 'Where you are signed in' }) });
    assert.match(await sessions.innerText(), /This device/);
    assert.match(await sessions.innerText(), /Firefox 128 on Linux/);
    assert.match(await sessions.innerText(), /127\.0\.0\.1/);
    // Connected apps, with the scopes in words.
    const apps = page.locator('section', { has: page.getByRole('heading', { name: 'Connected apps' }) });
    assert.match(await apps.innerText(), /Photo app/);
    assert.match(await apps.innerText(), /Read your data/);
    await check(page, 'account');

    // Sign out the phone.
    assert.equal(
      await submitAndReload(page, () => page.getByRole('button', { name: /^Sign out Firefox 128/ }).click()),
      'Signed out of that device.',
    );
    assert.doesNotMatch(await sessions.innerText(), /Firefox 128/);
    assert.equal((await verify(phone.token)).status, 401);
    assert.equal((await api('/v1/auth/refresh', { method: 'POST', json: { refresh_token: phone.refresh_token } })).status, 401);

    // Remove the app's access: its access and refresh tokens are refused.
    assert.equal(
      await submitAndReload(page, () => page.getByRole('button', { name: 'Remove access for Photo app' }).click()),
      'Access removed for Photo app.',
    );
    assert.match(await apps.innerText(), /not connected any apps/);
    assert.equal((await verify(app.access_token)).status, 401);
    await assert.rejects(client.refreshTokenGrant(rp, app.refresh_token!), (e: any) => e.error === 'invalid_grant');

    // Profile.
    await page.getByLabel('First name').fill('Grace');
    assert.equal(await submitAndReload(page, () => page.getByRole('button', { name: 'Save profile' }).click()), 'Profile saved.');
    assert.equal(await page.getByLabel('First name').inputValue(), 'Grace');
    assert.equal((await srv.services.accounts.findByEmail('customer', email))?.first_name, 'Grace');

    // Password: a wrong current one is refused in place, then the change.
    await page.getByLabel('Current password').fill('not the password');
    await page.getByLabel('New password', { exact: true }).fill('a brand new secret');
    await page.getByLabel('New password again').fill('a brand new secret');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Change password' }).click()]);
    assert.match(await page.getByRole('alert').innerText(), /current password is not correct/);
    assert.equal(await page.getByLabel('Current password').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'current_password');
    await check(page, 'password-error');
    await page.getByLabel('Current password').fill(PASSWORD);
    await page.getByLabel('New password', { exact: true }).fill('a brand new secret');
    await page.getByLabel('New password again').fill('a brand new secret');
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Change password' }).click()]);
    assert.match(await page.getByRole('status').first().innerText(), /Password changed/);
    await check(page, 'password-changed');
    assert.equal((await v1Login(email, PASSWORD)).status, 401);
    assert.equal((await v1Login(email, 'a brand new secret')).status, 200);

    // Recent activity names what happened.
    await page.reload();
    const activity = await page.locator('section', { has: page.getByRole('heading', { name: 'Recent security activity' }) }).innerText();
    for (const line of [
      'Changed the password',
      'Removed an app · Photo app',
      'Ended a sign-in',
      'Signed in',
      'Connected an app · Photo app',
    ])
      assert.ok(activity.includes(line), `${line} in ${activity}`);

    // Back through the whole history: every entry is a GET page, none a resubmission.
    for (let i = 0; i < 6; i++) {
      const back = await page.goBack();
      if (!back) break;
      assert.equal(back.request().method(), 'GET', `Back to ${page.url()}`);
      assert.ok(back.status() < 400, `Back to ${page.url()}: ${back.status()}`);
    }
    await page.goto(`${srv.url}/account`);

    // Sign out: back on the sign-in page, and the account page asks to sign in again.
    assert.equal(
      await submitAndReload(page, () => page.getByRole('button', { name: 'Sign out', exact: true }).click()),
      'You are signed out.',
    );
    assert.equal(new URL(page.url()).pathname, '/account/sign-in');
    await page.goto(`${srv.url}/account`);
    assert.equal(new URL(page.url()).pathname, '/account/sign-in');
    await context.close();
    assert.deepEqual(consoleErrors, []);
  });

  it('works without JavaScript, for a staff account sharing a customer email', async () => {
    const email = 'both@example.com';
    await srv.services.accounts.create({ actorType: 'customer', email, password: PASSWORD });
    await srv.services.accounts.create({ actorType: 'user', email, password: 'staff password 1', role: 'developer' });
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await newPage(context);
    await page.goto(`${srv.url}/account/sign-in`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill('staff password 1');
    // As a customer the staff password is wrong; as staff it is right.
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Sign in' }).click()]);
    assert.match(await page.getByRole('alert').innerText(), /customer account/);
    // By keyboard alone: the password field has the focus after the error; Tab to the account type, arrow to
    // "Staff account", Tab to the button, Enter.
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'password');
    await page.keyboard.type('staff password 1');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'as-customer');
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.getByLabel('Staff account').isChecked(), true);
    await page.keyboard.press('Tab');
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    assert.equal(new URL(page.url()).pathname, '/account');
    assert.match(await page.locator('main').innerText(), /Staff account \(developer\)/);
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Sign out', exact: true }).click()]);
    assert.match(await page.getByRole('status').innerText(), /signed out/);
    await context.close();
    assert.deepEqual(consoleErrors, []);
  });

  it('refuses form posts from other origins or without the session-bound token', async () => {
    const email = 'csrf@example.com';
    await srv.services.accounts.create({ actorType: 'customer', email, password: PASSWORD, firstName: 'Ada' });
    const context = await browser.newContext();
    const page = await newPage(context);
    await page.goto(`${srv.url}/account/sign-in`);
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(PASSWORD);
    await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Sign in' }).click()]);
    const cookie = (await context.cookies()).map((c) => `${c.name}=${c.value}`).join('; ');
    const csrf = await page.locator('form[action="/account/profile"] input[name=csrf]').inputValue();
    const post = (headers: Record<string, string>, body: string) =>
      fetch(`${srv.url}/account/profile`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded', ...headers },
        body,
      });
    const evil = `csrf=${encodeURIComponent(csrf)}&first_name=Mallory`;
    assert.equal((await post({ origin: 'https://evil.example' }, evil)).status, 403, 'another origin');
    assert.equal((await post({ origin: 'null' }, evil)).status, 403, 'Origin: null alone');
    assert.equal((await post({}, evil)).status, 403, 'neither Origin nor Sec-Fetch-Site');
    assert.equal((await post({ 'sec-fetch-site': 'same-site' }, evil)).status, 403, 'a sibling site');
    assert.equal((await post({ origin: srv.url }, 'csrf=forged&first_name=Mallory')).status, 403, 'a wrong token');
    assert.equal((await post({ origin: srv.url }, 'first_name=Mallory')).status, 403, 'no token');
    assert.equal((await srv.services.accounts.findByEmail('customer', email))?.first_name, 'Ada');
    const ok = await post({ origin: srv.url }, `csrf=${encodeURIComponent(csrf)}&first_name=Grace`);
    assert.equal(ok.status, 303);
    assert.equal((await srv.services.accounts.findByEmail('customer', email))?.first_name, 'Grace');
    // The sign-in form's token is bound to its browser's cookie.
    const signIn = await fetch(`${srv.url}/account/sign-in`, {
      method: 'POST',
      redirect: 'manual',
      headers: { origin: srv.url, 'content-type': 'application/x-www-form-urlencoded' },
      body: `csrf=x&email=${encodeURIComponent(email)}&password=${encodeURIComponent(PASSWORD)}`,
    });
    assert.equal(signIn.status, 403);
    assert.ok(!signIn.headers.getSetCookie().some((c) => c.startsWith('connect.sid=')), 'no session from a forged sign-in');
    await context.close();
  });
});
