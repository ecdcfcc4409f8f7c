import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { decodeJwt } from 'jose';
import * as client from 'openid-client';
import { http, runCli, startTestServer, type TestServer } from '../helpers/harness.ts';
import { Browser } from '../oauth/browser.ts';
import { authorize, REDIRECT_URI, relyingParty } from '../oauth/flow.ts';

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

describe('portcullis CLI: what an operator types', () => {
  let srv: TestServer;
  const cli = (args: string[], input?: string) => runCli(srv.prefix, args, { input });
  const json = async (args: string[], input?: string) => {
    const res = await cli(args, input);
    assert.equal(res.code, 0, `${args.join(' ')}: ${res.stderr}`);
    return JSON.parse(res.stdout);
  };
  /** The audit events of one type about one subject, as the CLI's own `audit tail` shows them. */
  const audited = async (type: string, subjectId: string): Promise<Record<string, any>[]> =>
    (
      (await json(['audit', 'tail', '--limit', '1000', '--type', type, '--subject', subjectId])).audit_events as Record<string, string>[]
    ).map((e) => ({ ...e, data: JSON.parse(e.data!) }));
  /** Exactly one event of that type about that subject, made by the CLI. */
  const once = async (type: string, subjectId: string) => {
    const found = await audited(type, subjectId);
    assert.equal(found.length, 1, `${type} for ${subjectId}: ${JSON.stringify(found)}`);
    assert.equal(found[0]!.actor_type, 'cli', `${type}: actor`);
    assert.ok(found[0]!.actor_id, `${type}: the OS user that ran the CLI`);
    return found[0]!;
  };
  const login = (username: string, password: string, actor_type?: string) =>
    http(`${srv.url}/v1/auth/login`, { method: 'POST', json: { username, password, ...(actor_type ? { actor_type } : {}) } });

  before(async () => {
    srv = await startTestServer();
    await srv.services.accounts.create({ actorType: 'user', email: 'root@example.com', password: 'root password ok', role: 'admin' });
  });
  after(() => srv.close());

  it('prints the package version with --version and -v', async () => {
    for (const flag of ['--version', '-v']) {
      const res = await cli([flag]);
      assert.equal(res.code, 0);
      assert.equal(res.stdout, `${VERSION}\n`);
    }
  });

  it('answers a typo with the usage and a suggestion, exit 2, nothing on stdout', async () => {
    const top = await cli(['usr', 'list']);
    assert.equal(top.code, 2);
    assert.equal(top.stdout, '');
    assert.match(top.stderr, /Did you mean user\?/);
    assert.match(top.stderr, /Commands:/);

    const sub = await cli(['user', 'lsit']);
    assert.equal(sub.code, 2);
    assert.equal(sub.stdout, '');
    assert.match(sub.stderr, /Did you mean list\?/);
    assert.match(sub.stderr, /Usage:\n {2}portcullis user create/);

    for (const [args, word] of [
      [['grant', 'revok', 'x'], 'revoke'],
      [['api-key', 'lst'], 'list'],
      [['audit', 'verfy'], 'verify'],
      [['client', 'rotate'], 'rotate-secret'],
      [['keys', 'rotat'], 'rotate'],
    ] as const) {
      const res = await cli([...args]);
      assert.equal(res.code, 2, args.join(' '));
      assert.match(res.stderr, new RegExp(`Did you mean ${word}\\?`), args.join(' '));
    }
    // Nothing close: the usage, and no made-up suggestion.
    const far = await cli(['zzzzzzzz']);
    assert.equal(far.code, 2);
    assert.doesNotMatch(far.stderr, /Did you mean/);
  });

  it('--help lists every command', async () => {
    const res = await cli(['--help']);
    assert.equal(res.code, 0);
    for (const name of ['api-key', 'audit', 'client', 'customer', 'grant', 'jwks', 'user'])
      assert.match(res.stdout, new RegExp(`\\n  ${name}\\s`));
  });

  it('reads a new password from stdin with --password-stdin (one trailing newline dropped), never from argv', async () => {
    const user = await json(
      ['user', 'create', '--email', 'piped@example.com', '--password-stdin', '--role', 'developer'],
      'a piped password\n',
    );
    assert.equal(user.role, 'developer');
    assert.equal((await login('piped@example.com', 'a piped password')).status, 200);
    const event = await once('user.created', user.id);
    assert.equal(event.data.via, 'cli');

    const customer = await json(
      ['customer', 'create', '--email', 'piped-shopper@example.com', '--password-stdin'],
      'shopper pw from stdin',
    );
    assert.equal((await login('piped-shopper@example.com', 'shopper pw from stdin', 'customer')).status, 200);
    await once('customer.created', customer.id);

    // No terminal to ask on and no --password-stdin: a usage error, not a hang, and nothing created.
    const none = await cli(['user', 'create', '--email', 'nopw@example.com']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /--password-stdin/);
    const both = await cli(['user', 'create', '--email', 'nopw@example.com', '--password', 'long enough pw', '--password-stdin'], 'x');
    assert.equal(both.code, 2);
    const weak = await cli(['user', 'create', '--email', 'nopw@example.com', '--password-stdin'], 'password123');
    assert.equal(weak.code, 2);
    assert.match(weak.stderr, /most commonly used/);
    assert.equal((await json(['user', 'list', '--q', 'nopw'])).count, 0);
  });

  it('still takes --password for old scripts, with a warning that it is unsafe', async () => {
    const res = await cli(['user', 'create', '--email', 'argv@example.com', '--password', 'visible in ps']);
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /warning: --password is unsafe/);
    assert.equal((await login('argv@example.com', 'visible in ps')).status, 200);
  });

  it('set-password reads stdin, ends every sign-in, and is audited without the password', async () => {
    const user = await json(['user', 'create', '--email', 'reset-me@example.com', '--password-stdin'], 'the old password');
    const signedIn = await login('reset-me@example.com', 'the old password');
    assert.equal(signedIn.status, 200);
    const out = await json(['user', 'set-password', 'reset-me@example.com', '--password-stdin'], 'the new password');
    assert.equal(out.password_changed, true);
    assert.ok(out.sign_ins_ended >= 1);
    const verify = await http(`${srv.url}/v1/auth/verify`, { headers: { authorization: `Bearer ${signedIn.json.token}` } });
    assert.equal(verify.status, 401, 'the sign-in made with the old password ended');
    assert.equal((await login('reset-me@example.com', 'the old password')).status, 401);
    assert.equal((await login('reset-me@example.com', 'the new password')).status, 200);
    const event = await once('user.password_changed', user.id);
    assert.equal(JSON.stringify(event).includes('the new password'), false);
  });

  it('records every account change it makes, with the admin API event types and the CLI as actor', async () => {
    const user = await json(['user', 'create', '--email', 'changes@example.com', '--password-stdin'], 'changes password');
    await json(['user', 'set-role', user.id, 'developer']);
    const role = await once('user.role_changed', user.id);
    assert.deepEqual([role.data.from_role, role.data.to_role], ['member', 'developer']);
    await json(['user', 'disable', user.id]);
    await once('user.disabled', user.id);
    await json(['user', 'enable', user.id]);
    await once('user.enabled', user.id);
    await json(['user', 'sign-out', user.id]);
    await once('user.signed_out', user.id);
    await json(['user', 'delete', user.id]);
    await once('user.deleted', user.id);

    const customer = await json(['customer', 'create', '--email', 'gone@example.com', '--password-stdin'], 'customer password');
    await json(['customer', 'sign-out', customer.id]);
    await once('customer.signed_out', customer.id);
    await json(['customer', 'delete', customer.id]);
    await once('customer.deleted', customer.id);

    const created = await json(['client', 'create', '--client-id', 'cli-audited', '--redirect-uri', REDIRECT_URI]);
    await once('oauth_client.created', 'cli-audited');
    const rotated = await json(['client', 'rotate-secret', 'cli-audited']);
    await once('oauth_client.secret_rotated', 'cli-audited');
    await json(['client', 'delete', 'cli-audited']);
    await once('oauth_client.deleted', 'cli-audited');

    const key = await json(['api-key', 'create', '--type', 'secret', '--title', 'audited', '--created-by', 'root@example.com']);
    const keyCreated = await once('api_key.created', key.id);
    assert.equal(keyCreated.data.created_by, (await srv.services.accounts.findByEmail('user', 'root@example.com'))!.id);
    await json(['api-key', 'revoke', key.id]);
    await once('api_key.revoked', key.id);

    const everything = (await cli(['audit', 'export'])).stdout;
    for (const secret of ['changes password', 'customer password', created.client_secret, rotated.client_secret, key.token])
      assert.equal(everything.includes(secret), false, 'a secret in the audit trail');
  });

  it('prints every list as {<things>, count}; api-key list shows a secret key only redacted', async () => {
    const secret = await json(['api-key', 'create', '--type', 'secret', '--title', 'listed', '--created-by', 'root@example.com']);
    const publishable = await json(['api-key', 'create', '--type', 'publishable', '--title', 'shop', '--created-by', 'root@example.com']);
    const keys = await json(['api-key', 'list']);
    assert.deepEqual(Object.keys(keys).sort(), ['api_keys', 'count']);
    assert.equal(keys.count, keys.api_keys.length);
    const listedSecret = keys.api_keys.find((k: { id: string }) => k.id === secret.id);
    assert.equal('token' in listedSecret, false, 'no empty token field for a secret key');
    assert.match(listedSecret.redacted, /^sk_.+\*\*\*/);
    assert.equal(JSON.stringify(keys).includes(secret.token), false);
    assert.equal(keys.api_keys.find((k: { id: string }) => k.id === publishable.id).token, publishable.token);

    for (const [args, field] of [
      [['user', 'list'], 'users'],
      [['customer', 'list'], 'customers'],
      [['client', 'list'], 'oauth_clients'],
      [['api-key', 'list', '--type', 'secret'], 'api_keys'],
      [['grant', 'list', '--user', 'root@example.com'], 'grants'],
      [['audit', 'tail'], 'audit_events'],
    ] as const) {
      const listed = await json([...args]);
      assert.deepEqual(Object.keys(listed).sort(), [field, 'count'].sort(), args.join(' '));
      assert.equal(listed.count, listed[field].length, args.join(' '));
    }
  });

  it('lists the grants a customer gave and a client holds, and revokes one: its tokens are refused at once', async () => {
    await json(['customer', 'create', '--email', 'granting@example.com', '--password-stdin'], 'granting password');
    const app = await json(['client', 'create', '--client-id', 'grant-app', '--redirect-uri', REDIRECT_URI, '--name', 'Grant App']);
    const rp = await relyingParty(srv.url, { clientId: 'grant-app', clientSecret: app.client_secret });
    const a = await authorize(rp, new Browser(), { email: 'granting@example.com', password: 'granting password', scope: 'openid read' });
    const tokens = await client.authorizationCodeGrant(rp, a.callback, {
      pkceCodeVerifier: a.codeVerifier,
      expectedState: a.state,
      expectedNonce: a.nonce,
    });
    const grantId = decodeJwt(tokens.access_token).grant_id as string;

    const byCustomer = await json(['grant', 'list', '--customer', 'granting@example.com']);
    assert.equal(byCustomer.count, 1);
    assert.equal(byCustomer.grants[0].id, grantId);
    assert.deepEqual(byCustomer.grants[0].client, { id: 'grant-app', name: 'Grant App' });
    assert.ok(byCustomer.grants[0].scopes.includes('read'));
    assert.deepEqual((await json(['grant', 'list', '--client', 'grant-app'])).grants, byCustomer.grants);

    const verify = () => http(`${srv.url}/v1/auth/verify`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    assert.equal((await verify()).status, 200);
    assert.deepEqual(await json(['grant', 'revoke', grantId]), { id: grantId, object: 'oauth_grant', deleted: true });
    assert.equal((await verify()).status, 401);
    await assert.rejects(client.refreshTokenGrant(rp, tokens.refresh_token!));
    assert.equal((await json(['grant', 'list', '--customer', 'granting@example.com'])).count, 0);
    const event = await once('oauth_grant.revoked', grantId);
    assert.equal(event.data.client_id, 'grant-app');

    const again = await cli(['grant', 'revoke', grantId]);
    assert.equal(again.code, 1);
    assert.match(again.stderr, /not found/);
    // Grant ids are base64url, so one in 64 begins with "-": looked up as written, not refused as an option.
    const dashed = await cli(['grant', 'revoke', '-Zx9']);
    assert.equal(dashed.code, 1, dashed.stderr);
    assert.match(dashed.stderr, /not found/);
    for (const args of [
      ['grant', 'list'],
      ['grant', 'list', '--user', 'a', '--client', 'b'],
      ['grant', 'revoke'],
    ]) {
      const res = await cli(args);
      assert.equal(res.code, 2, args.join(' '));
      assert.match(res.stderr, /Usage:/);
    }
  });
});
