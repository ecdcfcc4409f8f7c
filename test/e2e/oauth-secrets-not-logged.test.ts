import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import * as client from 'openid-client';
import { createApp } from '../../src/app.ts';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/logger.ts';
import { listen, type RunningServer } from '../../src/server.ts';
import { createServices, type Services } from '../../src/services.ts';
import { createRedisStore } from '../../src/store/redis.ts';
import type { Store } from '../../src/store/port.ts';
import { dropPrefix, http, privatePrefix, REDIS_URL } from '../helpers/harness.ts';
import { Browser } from '../oauth/browser.ts';
import { authorize, REDIRECT_URI, relyingParty } from '../oauth/flow.ts';

/** The whole OAuth flow at log level debug: no password, client secret, code or token in any log line. */
describe('OAuth secrets never reach the logs', () => {
  const lines: string[] = [];
  const prefix = privatePrefix('oauth-logs');
  let running: RunningServer;
  let store: Store;
  let services: Services;
  let url: string;

  before(async () => {
    running = await listen(null, 0, '127.0.0.1');
    url = running.url.replace('localhost', '127.0.0.1');
    const config = await loadConfig({ PUBLIC_URL: url, NODE_ENV: 'test', HOST: '127.0.0.1', LOG_LEVEL: 'debug', DEV_SECRETS_FILE: '.portcullis/test-secrets.json', REDIS_URL, REDIS_PREFIX: prefix });
    const sink = new Writable({
      write(chunk, _enc, done) {
        lines.push(String(chunk));
        done();
      },
    });
    store = await createRedisStore({ url: REDIS_URL, prefix });
    services = await createServices(config, store, createLogger('debug', sink));
    running.attach(await createApp(services));
  });
  after(async () => {
    await running.close(1000);
    await store.close();
    await dropPrefix(prefix);
  });

  it('logs requests, not credentials', async () => {
    const password = 'logged-password-never';
    await services.accounts.create({ actorType: 'customer', email: 'logs@example.com', password });
    const { secret } = await services.oauthClients.create({ clientId: 'log-app', redirectUris: [REDIRECT_URI], grantTypes: ['authorization_code', 'refresh_token', 'client_credentials'] });
    const rp = await relyingParty(url, { clientId: 'log-app', clientSecret: secret! });
    const a = await authorize(rp, new Browser(), { email: 'logs@example.com', password, scope: 'openid read write' });
    const code = a.callback.searchParams.get('code')!;
    const tokens = await client.authorizationCodeGrant(rp, a.callback, { pkceCodeVerifier: a.codeVerifier, expectedState: a.state, expectedNonce: a.nonce });
    const refreshed = await client.refreshTokenGrant(rp, tokens.refresh_token!);
    const cc = await client.clientCredentialsGrant(rp, { scope: 'read' });
    await http(`${url}/v1/auth/verify`, { headers: { authorization: `Bearer ${refreshed.access_token}` } });
    await client.tokenRevocation(rp, refreshed.refresh_token!);
    await http(`${url}/oauth/token`, { method: 'POST', json: { grant_type: 'refresh_token', refresh_token: tokens.refresh_token, client_id: 'log-app', client_secret: secret } });

    const all = lines.join('');
    assert.ok(lines.length > 5, 'requests were logged');
    for (const [name, value] of Object.entries({ password, secret: secret!, code, access: tokens.access_token, refresh: tokens.refresh_token!, id: tokens.id_token!, refreshed: refreshed.refresh_token!, cc: cc.access_token })) {
      assert.ok(!all.includes(value), `the ${name} appears in the logs`);
    }
  });
});
