import assert from 'node:assert/strict';
import * as client from 'openid-client';
import { Browser } from './browser.ts';

export const REDIRECT_URI = 'https://app.example.com/callback';

export interface ClientSetup {
  clientId: string;
  clientSecret?: string;
}

/** An openid-client Configuration for a client of the server at `issuer` (http allowed in tests). */
export async function relyingParty(issuer: string, c: ClientSetup, auth: 'basic' | 'post' = 'basic'): Promise<client.Configuration> {
  const method = !c.clientSecret
    ? client.None()
    : auth === 'basic'
      ? client.ClientSecretBasic(c.clientSecret)
      : client.ClientSecretPost(c.clientSecret);
  return client.discovery(new URL(issuer), c.clientId, c.clientSecret ? { client_secret: c.clientSecret } : {}, method, {
    execute: [client.allowInsecureRequests],
  });
}

export interface AuthorizeResult {
  callback: URL;
  codeVerifier: string;
  state: string;
  nonce: string;
  sawLogin: boolean;
  sawConsent: boolean;
  /** The login was for another account than the session's: the provider ended that session first. */
  sawSignOut: boolean;
}

/**
 * The browser half of the code flow: open the authorization URL, sign in on our login page,
 * allow on the consent page (when shown), and return the callback URL the client receives.
 */
export async function authorize(
  rp: client.Configuration,
  browser: Browser,
  opts: {
    email: string;
    password: string;
    scope: string;
    consent?: 'allow' | 'deny';
    redirectUri?: string;
    extra?: Record<string, string>;
  },
): Promise<AuthorizeResult> {
  const redirectUri = opts.redirectUri ?? REDIRECT_URI;
  const codeVerifier = client.randomPKCECodeVerifier();
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(rp, {
    redirect_uri: redirectUri,
    scope: opts.scope,
    code_challenge: await client.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...opts.extra,
  });
  let step = await browser.follow(url.href, redirectUri);
  let sawLogin = false;
  let sawConsent = false;
  if (!step.url.startsWith(redirectUri) && step.html.includes('name="password"')) {
    sawLogin = true;
    assert.equal(step.res.status, 200);
    step = await browser.submit(step.url, step.html, '/login', { email: opts.email, password: opts.password }, redirectUri);
  }
  let sawSignOut = false;
  if (!step.url.startsWith(redirectUri) && step.html.includes('/end-session/confirm')) {
    // oidc-provider's self-submitting form (a browser posts it by script) ending the other account's session.
    sawSignOut = true;
    step = await browser.submit(step.url, step.html, '/end-session/confirm', {}, redirectUri);
  }
  if (!step.url.startsWith(redirectUri) && step.html.includes('/confirm')) {
    sawConsent = true;
    step = await browser.submit(step.url, step.html, opts.consent === 'deny' ? '/abort' : '/confirm', {}, redirectUri);
  }
  assert.ok(
    step.url.startsWith(redirectUri),
    `expected a redirect to the client, got ${step.res.status} ${step.url}\n${step.html.slice(0, 500)}`,
  );
  // An error redirect (invalid_scope, ...) is no code: say so here rather than as an invalid_grant
  // at the exchange. Only a denial is expected to come back without a code.
  if (opts.consent !== 'deny') assert.ok(new URL(step.url).searchParams.get('code'), `expected a code, got ${new URL(step.url).search}`);
  return { callback: new URL(step.url), codeVerifier, state, nonce, sawLogin, sawConsent, sawSignOut };
}
