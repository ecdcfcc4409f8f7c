import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { http, runCli, startTestServer, type TestServer } from '../helpers/harness.ts';

const LINKS = {
  logo_uri: 'https://shop.example.com/logo.png',
  client_uri: 'https://shop.example.com/',
  policy_uri: 'https://shop.example.com/privacy',
  tos_uri: 'https://shop.example.com/terms',
};

/** The consent page's client links (logo, home page, privacy policy, terms): https only, wherever a client is registered. */
describe('OAuth client links: Admin API and CLI', () => {
  let srv: TestServer;
  let token: string;
  const admin = (path: string, init: Parameters<typeof http>[1] = {}) =>
    http(`${srv.url}/admin${path}`, { ...init, headers: { authorization: `Bearer ${token}` } });

  before(async () => {
    srv = await startTestServer();
    await srv.services.accounts.create({ actorType: 'user', email: 'dev@example.com', password: 'developer pass', role: 'developer' });
    token = (await http(`${srv.url}/v1/auth/login`, { method: 'POST', json: { username: 'dev@example.com', password: 'developer pass' } }))
      .json.token as string;
  });
  after(() => srv.close());

  it('registers, shows, changes and removes the links with the Admin API', async () => {
    const created = await admin('/oauth-clients', {
      method: 'POST',
      json: { client_id: 'linked-app', name: 'Linked', redirect_uris: ['https://shop.example.com/cb'], ...LINKS },
    });
    assert.equal(created.status, 200, JSON.stringify(created.json));
    assert.deepEqual(Object.fromEntries(Object.keys(LINKS).map((k) => [k, created.json.oauth_client[k]])), LINKS);
    const updated = await admin('/oauth-clients/linked-app', {
      method: 'POST',
      json: { tos_uri: null, client_uri: 'https://shop.example.com/home' },
    });
    assert.equal(updated.status, 200);
    assert.equal(updated.json.oauth_client.tos_uri, null);
    assert.equal(updated.json.oauth_client.client_uri, 'https://shop.example.com/home');
    assert.equal(updated.json.oauth_client.policy_uri, LINKS.policy_uri, 'a link not named is kept');
  });

  it('refuses javascript:, data:, plain http and relative links with a 400 naming the field', async () => {
    const cases: [string, string][] = [
      ['logo_uri', 'javascript:alert(1)'],
      ['client_uri', 'JavaScript:alert(document.cookie)'],
      ['policy_uri', 'data:text/html,<script>alert(1)</script>'],
      ['tos_uri', 'http://shop.example.com/terms'],
      ['logo_uri', '/logo.png'],
      ['client_uri', 'https://user:pass@shop.example.com/'],
    ];
    for (const [field, value] of cases) {
      const res = await admin('/oauth-clients', {
        method: 'POST',
        json: { name: 'Bad', redirect_uris: ['https://shop.example.com/cb'], [field]: value },
      });
      assert.equal(res.status, 400, `${field}=${value}`);
      assert.match(res.json.message, new RegExp(`^${field}: `), `${field}=${value}: ${res.json.message}`);
      const update = await admin('/oauth-clients/linked-app', { method: 'POST', json: { [field]: value } });
      assert.equal(update.status, 400, `update ${field}=${value}`);
    }
  });

  it('the CLI takes the links as flags and refuses a script URL as a usage error', async () => {
    const ok = await runCli(srv.prefix, [
      'client',
      'create',
      '--client-id',
      'cli-linked',
      '--redirect-uri',
      'https://shop.example.com/cb',
      '--logo-uri',
      LINKS.logo_uri,
      '--client-uri',
      LINKS.client_uri,
      '--policy-uri',
      LINKS.policy_uri,
      '--tos-uri',
      LINKS.tos_uri,
    ]);
    assert.equal(ok.code, 0, ok.stderr);
    const printed = JSON.parse(ok.stdout);
    assert.equal(printed.logo_uri, LINKS.logo_uri);
    assert.equal(printed.tos_uri, LINKS.tos_uri);
    const bad = await runCli(srv.prefix, [
      'client',
      'create',
      '--client-id',
      'cli-bad',
      '--redirect-uri',
      'https://shop.example.com/cb',
      '--policy-uri',
      'javascript:alert(1)',
    ]);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /policy_uri: must be an https URL/);
  });
});
