import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import * as client from 'openid-client';
import type { Services } from '../../src/services.ts';
import { http, startTestServer, type TestServer } from '../helpers/harness.ts';
import { Browser } from '../oauth/browser.ts';
import { authorize, REDIRECT_URI, relyingParty } from '../oauth/flow.ts';

/** The whole OAuth flow at log level debug: no password, client secret, code or token in any log line. */
describe('OAuth secrets never reach the logs', () => {
  const lines: string[] = [];
  let server: TestServer;
  let services: Services;
  let url: string;

  before(async () => {
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    server = await startTestServer({ env: { LOG_LEVEL: 'debug' }, logDestination: sink });
    services = server.services;
    url = server.url;
  });
  after(() => server.close());

  it('logs requests, not credentials', async () => {
    const password = 'logged-password-never';
    await services.accounts.create({ actorType: 'customer', email: 'logs@example.com', password });
    const { secret } = await services.oauthClients.create({
      clientId: 'log-app',
      redirectUris: [REDIRECT_URI],
      grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'],
    });
    const rp = await relyingParty(url, { clientId: 'log-app', clientSecret: secret! });
    const a = await authorize(rp, new Browser(), { email: 'logs@example.com', password, scope: 'openid read write' });
    const code = a.callback.searchParams.get('code')!;
    const tokens = await client.authorizationCodeGrant(rp, a.callback, {
      pkceCodeVerifier: a.codeVerifier,
      expectedState: a.state,
      expectedNonce: a.nonce,
    });
    const refreshed = await client.refreshTokenGrant(rp, tokens.refresh_token!);
    const cc = await client.clientCredentialsGrant(rp, { scope: 'read' });
    await http(`${url}/v1/auth/verify`, { headers: { authorization: `Bearer ${refreshed.access_token}` } });
    await client.tokenRevocation(rp, refreshed.refresh_token!);
    await http(`${url}/oauth/token`, {
      method: 'POST',
      json: { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: 'log-app', client_secret: secret },
    });

    const all = lines.join('');
    assert.ok(lines.length > 5, 'requests were logged');
    for (const [name, value] of Object.entries({
      password,
      secret: secret!,
      code,
      access: tokens.access_token,
      refresh: tokens.refresh_token!,
      id: tokens.id_token!,
      refreshed: refreshed.refresh_token!,
      cc: cc.access_token,
    })) {
      assert.ok(!all.includes(value), `the ${name} appears in the logs`);
    }
  });
});
