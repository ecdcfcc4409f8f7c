import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser } from 'playwright-core';
import * as client from 'openid-client';
import { chromiumMissing, launchBrowser } from '../helpers/console-browser.ts';
import { startTestServer, type TestServer } from '../helpers/harness.ts';
import { REDIRECT_URI, relyingParty } from '../oauth/flow.ts';

describe('OAuth login and consent pages in headless Chromium (JavaScript off)', { skip: chromiumMissing }, () => {
  let srv: TestServer;
  let browser: Browser;
  let rp: client.Configuration;

  before(async () => {
    srv = await startTestServer();
    await srv.services.accounts.create({ actorType: 'customer', email: 'page@example.com', password: 'page password 1' });
    const { secret } = await srv.services.oauthClients.create({ clientId: 'page-app', name: 'Page App', redirectUris: [REDIRECT_URI] });
    rp = await relyingParty(srv.url, { clientId: 'page-app', clientSecret: secret! });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await srv?.close();
  });

  it('signs in with labelled fields, names the client and its scopes, and lands on the callback with a code', async () => {
    const context = await browser.newContext({ javaScriptEnabled: false });
    const page = await context.newPage();
    let callback: URL | undefined;
    await page.route('https://app.example.com/**', async (route) => {
      callback = new URL(route.request().url());
      await route.fulfill({ status: 200, contentType: 'text/plain', body: 'callback reached' });
    });
    const verifier = client.randomPKCECodeVerifier();
    const url = client.buildAuthorizationUrl(rp, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid email read',
      state: 'st-1',
      code_challenge: await client.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    });
    await page.goto(url.href);
    assert.equal(await page.title(), 'Sign in to Page App');
    assert.match(await page.locator('main').innerText(), /Page App/);
    // Our stylesheet, not a third-party font or script.
    const styles = await page.locator('link[rel=stylesheet]').getAttribute('href');
    assert.equal(styles, '/oauth/assets/portcullis.css');
    await page.getByLabel('Email').fill('page@example.com');
    await page.getByLabel('Password').fill('wrong password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    assert.match(await page.getByRole('alert').innerText(), /incorrect/);
    await page.getByLabel('Password').fill('page password 1');
    await page.getByRole('button', { name: 'Sign in' }).click();

    const consent = await page.locator('main').innerText();
    assert.match(consent, /Allow Page App access\?/);
    assert.match(consent, /See your email address/);
    assert.match(consent, /Read your data/);
    await page.getByRole('button', { name: 'Allow' }).click();
    await page.waitForURL((u) => u.href.startsWith(REDIRECT_URI));
    assert.ok(callback?.searchParams.get('code'));
    assert.equal(callback?.searchParams.get('state'), 'st-1');
    await context.close();
  });
});
