import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import * as client from 'openid-client';
import { createClient } from 'redis';
import { freePort, http, redisBinariesMissing, startTestServer, type TestServer } from '../helpers/harness.ts';
import { Browser } from '../oauth/browser.ts';
import { authorize, REDIRECT_URI, relyingParty } from '../oauth/flow.ts';

const CUSTOMER = { email: 'outage@example.com', password: 'outage password 1' };

/**
 * The OAuth provider while its store does not answer (a private redis-server frozen with SIGSTOP):
 * every endpoint and page answers 503 `temporarily_unavailable` with Retry-After, in its own
 * format, within the Redis command timeout (one timeout per request, not one per lookup), and
 * nothing is logged as an unhandled 500.
 */
describe('OAuth endpoints when Redis stops answering', { skip: redisBinariesMissing() }, () => {
  let redis: ChildProcess;
  let srv: TestServer;
  let rp: client.Configuration;
  let svcSecret: string;
  let webSecret: string;
  let jwtAccessToken: string;
  let opaqueAccessToken: string;
  let pendingInteraction: { browser: Browser; url: string };
  const TIMEOUT_MS = 400;
  const logs: { level: string; msg: string; status?: number }[] = [];

  before(async () => {
    const port = await freePort();
    redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    const url = `redis://127.0.0.1:${port}`;
    for (let i = 0; ; i++) {
      const probe = createClient({ url, socket: { reconnectStrategy: false } });
      probe.on('error', () => {});
      try {
        await probe.connect();
        await probe.close();
        break;
      } catch {
        if (i > 100) throw new Error('the private redis-server did not start');
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) logs.push(JSON.parse(line));
        done();
      },
    });
    srv = await startTestServer({
      redisUrl: url,
      env: { REDIS_COMMAND_TIMEOUT_MS: String(TIMEOUT_MS), LOG_LEVEL: 'warn' },
      logDestination: sink,
    });
    await srv.services.accounts.create({ actorType: 'customer', ...CUSTOMER });
    const web = await srv.services.oauthClients.create({
      clientId: 'web-app',
      redirectUris: [REDIRECT_URI],
      grantTypes: ['authorization_code'],
      scopes: ['openid', 'read'],
    });
    svcSecret = (
      await srv.services.oauthClients.create({
        clientId: 'svc-app',
        redirectUris: [REDIRECT_URI],
        grantTypes: ['client_credentials'],
        scopes: ['read'],
      })
    ).secret!;
    webSecret = web.secret!;
    rp = await relyingParty(srv.url, { clientId: 'web-app', clientSecret: webSecret });
    const codeFlow = async (scope: string) => {
      const a = await authorize(rp, new Browser(), { ...CUSTOMER, scope });
      return client.authorizationCodeGrant(rp, a.callback, {
        pkceCodeVerifier: a.codeVerifier,
        expectedState: a.state,
        expectedNonce: a.nonce,
      });
    };
    jwtAccessToken = (await codeFlow('openid read')).access_token;
    opaqueAccessToken = (await codeFlow('openid')).access_token;
    // A sign-in in progress: its login page is open when Redis stops.
    const browser = new Browser();
    const start = client.buildAuthorizationUrl(rp, {
      redirect_uri: REDIRECT_URI,
      scope: 'openid read',
      code_challenge: await client.calculatePKCECodeChallenge(client.randomPKCECodeVerifier()),
      code_challenge_method: 'S256',
    });
    pendingInteraction = { browser, url: (await browser.follow(start.href, REDIRECT_URI)).url };
  });
  after(async () => {
    redis?.kill('SIGCONT');
    await srv?.close();
    redis?.kill('SIGKILL');
  });

  it(
    'answers 503 temporarily_unavailable (token, authorize, introspection, revocation, PAR, end-session, userinfo, the login page) within the command timeout, and serves again after',
    { timeout: 30_000 },
    async () => {
      const basic = `Basic ${Buffer.from(`svc-app:${svcSecret}`).toString('base64')}`;
      const clientCredentials = () =>
        http(`${srv.url}/oauth/token`, {
          method: 'POST',
          body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'read' }),
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic },
        });
      assert.equal((await clientCredentials()).status, 200);
      const webBasic = `Basic ${Buffer.from(`web-app:${webSecret}`).toString('base64')}`;
      const form = (path: string, fields: Record<string, string>) =>
        http(`${srv.url}${path}`, {
          method: 'POST',
          body: new URLSearchParams(fields),
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: webBasic },
        });

      redis.kill('SIGSTOP');
      const calls: Record<string, () => Promise<{ status: number; headers: Headers; json: any; text: string }>> = {
        'client credentials': clientCredentials,
        authorize: () =>
          http(
            `${srv.url}/oauth/authorize?client_id=web-app&response_type=code&scope=openid&redirect_uri=${encodeURIComponent(REDIRECT_URI)}`,
            { redirect: 'manual' },
          ),
        introspection: () => form('/oauth/introspect', { token: opaqueAccessToken }),
        revocation: () => form('/oauth/revoke', { token: opaqueAccessToken }),
        PAR: () =>
          form('/oauth/par', {
            response_type: 'code',
            scope: 'openid',
            redirect_uri: REDIRECT_URI,
            code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
            code_challenge_method: 'S256',
          }),
        'end-session': () => http(`${srv.url}/oauth/end-session?client_id=web-app`, { redirect: 'manual' }),
        'userinfo (JWT)': () => http(`${srv.url}/oauth/userinfo`, { headers: { authorization: `Bearer ${jwtAccessToken}` } }),
        'userinfo (opaque)': () => http(`${srv.url}/oauth/userinfo`, { headers: { authorization: `Bearer ${opaqueAccessToken}` } }),
        'login page': async () => {
          const res = await pendingInteraction.browser.request(pendingInteraction.url);
          return { status: res.status, headers: res.headers, json: undefined, text: await res.text() };
        },
      };
      for (const [name, call] of Object.entries(calls)) {
        const started = performance.now();
        const res = await call();
        const ms = performance.now() - started;
        assert.equal(res.status, 503, `${name}: ${res.status} ${res.text.slice(0, 300)}`);
        assert.equal(res.headers.get('retry-after'), '1', name);
        if (res.json) assert.equal(res.json.error, 'temporarily_unavailable', name);
        else assert.match(res.text, name === 'login page' ? /Temporarily unavailable/ : /temporarily_unavailable/, name);
        // One command timeout (the store's sweeper rounds it up by a quarter), not one per lookup.
        assert.ok(ms < 2 * TIMEOUT_MS, `${name} answered in ${Math.round(ms)} ms`);
      }
      // Discovery and the keys need no store.
      assert.equal((await http(`${srv.url}/.well-known/openid-configuration`)).status, 200);
      assert.equal((await http(`${srv.url}/oauth/jwks`)).status, 200);

      redis.kill('SIGCONT');
      let status = 0;
      for (let i = 0; i < 50 && status !== 200; i++) {
        status = (await clientCredentials()).status;
        if (status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(status, 200, 'served again once Redis answers');
      // The request log records each 503 (at error level, as every 5xx); nothing is a 500 or an unhandled error.
      assert.deepEqual(
        logs.filter((l) => l.status === 500 || /unhandled|server error/.test(l.msg)),
        [],
        'no 500, no unhandled error',
      );
      assert.ok(
        logs.some((l) => l.level === 'warn' && /store unavailable/.test(l.msg)),
        'the outage is logged as a warning',
      );
    },
  );
});
