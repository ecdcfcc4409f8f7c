import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { loadConfig } from '../../src/config.ts';
import { dropPrefix, http, privatePrefix, REDIS_URL, startTestServer, type TestServer } from '../helpers/harness.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run the real `portcullis` bin in its own process, as an operator would. */
function cli(args: string[], env: Record<string, string | undefined>): Promise<CliResult> {
  const clean = { ...process.env };
  delete clean.REDIS_URL;
  delete clean.REDIS_PREFIX;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/portcullis.mjs', ...args], {
      cwd: ROOT,
      env: { ...clean, LOG_LEVEL: 'warn', DEV_SECRETS_FILE: '.portcullis/test-secrets.json', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('portcullis CLI against Redis', () => {
  const prefix = privatePrefix('cli');
  const env = { REDIS_URL, REDIS_PREFIX: prefix };
  let srv: TestServer;
  before(async () => {
    // The server shares the CLI's Redis namespace, as `npm start` would with the same REDIS_PREFIX.
    srv = await startTestServer({ prefix });
  });
  after(async () => {
    await srv.close();
    await dropPrefix(prefix);
  });

  const login = (username: string, password: string, actor_type?: string) =>
    http(`${srv.url}/v1/auth/login`, { method: 'POST', json: { username, password, ...(actor_type ? { actor_type } : {}) } });

  it('creates a user the server then logs in, with the role it was given', async () => {
    const res = await cli(
      [
        'user',
        'create',
        '--email',
        'Ops@Example.com',
        '--password',
        'correct horse battery',
        '--role',
        'admin',
        '--first-name',
        'Ada',
        '--last-name',
        'Ops',
      ],
      env,
    );
    assert.equal(res.code, 0, res.stderr);
    const user = JSON.parse(res.stdout);
    assert.match(user.id, /^user_[0-9A-Z]{26}$/);
    assert.equal(user.email, 'ops@example.com');
    assert.equal(user.role, 'admin');
    assert.equal(user.first_name, 'Ada');
    assert.equal(user.last_name, 'Ops');
    assert.ok(!res.stdout.includes('correct horse battery') && !res.stdout.includes('password'), 'no password (or hash) in the output');

    const loggedIn = await login('ops@example.com', 'correct horse battery');
    assert.equal(loggedIn.status, 200);
    const verify = await http(`${srv.url}/v1/auth/verify`, { headers: { authorization: `Bearer ${loggedIn.json.token}` } });
    assert.equal(verify.status, 200);
    assert.equal(verify.json.user_id, user.id);
    assert.deepEqual(verify.json.scopes, srv.config.roleScopes.admin);
  });

  it('creates members by default', async () => {
    const res = await cli(['user', 'create', '--email', 'member@example.com', '--password', 'member password'], env);
    assert.equal(res.code, 0, res.stderr);
    assert.equal(JSON.parse(res.stdout).role, 'member');
  });

  it('creates a customer who logs in as a customer (and not as a user)', async () => {
    const res = await cli(
      ['customer', 'create', '--email', 'shopper@example.com', '--password', 'shopper password', '--first-name', 'Sam'],
      env,
    );
    assert.equal(res.code, 0, res.stderr);
    const customer = JSON.parse(res.stdout);
    assert.match(customer.id, /^cus_/);
    assert.equal(customer.actor_type, 'customer');
    assert.equal(customer.first_name, 'Sam');
    assert.equal((await login('shopper@example.com', 'shopper password', 'customer')).status, 200);
    assert.equal((await login('shopper@example.com', 'shopper password')).status, 401);
  });

  it('refuses a second account with the same email (any case), exit 1, nothing on stdout', async () => {
    const res = await cli(['user', 'create', '--email', 'OPS@example.com', '--password', 'another password'], env);
    assert.equal(res.code, 1);
    assert.equal(res.stdout, '');
    assert.match(res.stderr, /already exists/);
  });

  it('lists, gets, re-roles, disables, enables, signs out and deletes users, keeping the last admin', async () => {
    const json = async (args: string[]) => {
      const res = await cli(args, env);
      assert.equal(res.code, 0, `${args.join(' ')}: ${res.stderr}`);
      return JSON.parse(res.stdout);
    };
    const user = await json([
      'user',
      'create',
      '--email',
      'cli-ops@example.com',
      '--password',
      'correct horse battery',
      '--role',
      'developer',
    ]);
    const listed = await json(['user', 'list', '--q', 'cli-ops']);
    assert.deepEqual(Object.keys(listed).sort(), ['count', 'users']);
    assert.equal(listed.count, 1);
    assert.equal(listed.users[0].id, user.id);
    assert.equal((await json(['user', 'get', 'CLI-OPS@example.com'])).id, user.id);
    assert.equal((await json(['user', 'set-role', user.id, 'member'])).role, 'member');

    const signIn = await login('cli-ops@example.com', 'correct horse battery');
    assert.equal(signIn.status, 200);
    assert.equal((await json(['user', 'disable', user.id])).disabled, true);
    const auth = { authorization: `Bearer ${signIn.json.token}` };
    assert.equal((await http(`${srv.url}/v1/auth/verify`, { headers: auth })).status, 401, 'disabling ended the sign-in');
    assert.equal((await login('cli-ops@example.com', 'correct horse battery')).status, 401);
    assert.equal((await json(['user', 'list', '--disabled', 'true'])).count, 1);
    assert.equal((await json(['user', 'enable', user.id])).disabled, false);
    const again = await login('cli-ops@example.com', 'correct horse battery');
    assert.equal(again.status, 200);
    assert.equal((await json(['user', 'sign-out', user.id])).signed_out, true);
    assert.equal((await http(`${srv.url}/v1/auth/verify`, { headers: { authorization: `Bearer ${again.json.token}` } })).status, 401);
    assert.deepEqual(await json(['user', 'delete', user.id]), { id: user.id, object: 'user', deleted: true });
    const gone = await cli(['user', 'get', user.id], env);
    assert.equal(gone.code, 1);
    assert.match(gone.stderr, /was not found/);

    // The only admin of this namespace (created by the first test) cannot be demoted, disabled or deleted.
    const admins = await json(['user', 'list', '--role', 'admin']);
    assert.equal(admins.count, 1);
    for (const args of [
      ['set-role', admins.users[0].id, 'member'],
      ['disable', admins.users[0].id],
      ['delete', admins.users[0].id],
    ]) {
      const res = await cli(['user', ...args], env);
      assert.equal(res.code, 1, args.join(' '));
      assert.match(res.stderr, /last active admin/);
    }
    assert.equal((await json(['user', 'get', admins.users[0].id])).role, 'admin');
  });

  it('lists, gets and deletes customers', async () => {
    const created = JSON.parse(
      (await cli(['customer', 'create', '--email', 'cli-shopper@example.com', '--password', 'long enough pw'], env)).stdout,
    );
    const listed = JSON.parse((await cli(['customer', 'list', '--q', 'cli-shopper'], env)).stdout);
    assert.deepEqual(listed, { customers: [created], count: 1 });
    assert.equal(JSON.parse((await cli(['customer', 'get', created.id], env)).stdout).email, 'cli-shopper@example.com');
    assert.deepEqual(JSON.parse((await cli(['customer', 'delete', 'cli-shopper@example.com'], env)).stdout), {
      id: created.id,
      object: 'customer',
      deleted: true,
    });
    assert.equal((await login('cli-shopper@example.com', 'long enough pw', 'customer')).status, 401);
    const bad = await cli(['customer', 'set-role', created.id, 'admin'], env);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /Usage/);
  });

  it('answers usage errors with exit 2 and the usage on stderr', async () => {
    const cases = [
      ['user', 'create', '--email', 'x@example.com'], // no password
      ['user', 'create', '--email', 'not-an-email', '--password', 'long enough'],
      ['user', 'create', '--email', 'y@example.com', '--password', 'short'],
      ['user', 'create', '--email', 'y@example.com', '--password', 'long enough', '--role', 'root'],
      ['customer', 'create', '--email', 'y@example.com', '--password', 'long enough', '--role', 'admin'], // unknown flag for customers
      ['frobnicate'],
    ];
    const results = await Promise.all(cases.map((args) => cli(args, env)));
    results.forEach((res, i) => {
      assert.equal(res.code, 2, `${cases[i].join(' ')}: ${res.stderr}`);
      assert.equal(res.stdout, '');
      assert.match(res.stderr, /Usage/);
    });
    // None of them created anything.
    assert.equal((await login('y@example.com', 'long enough')).status, 401);
  });

  it('refuses a password the policy refuses, naming the rule (the policy of every route that sets one)', async () => {
    for (const [password, rule] of [
      ['short', /at least 8 characters/],
      ['password123', /most commonly used/],
      ['Sunshine1', /most commonly used/],
    ] as const) {
      const res = await cli(['customer', 'create', '--email', 'weak@example.com', '--password', password], env);
      assert.equal(res.code, 2, res.stderr);
      assert.match(res.stderr, rule);
    }
    assert.equal((await login('weak@example.com', 'password123', 'customer')).status, 401);
  });

  it('prints help on stdout with exit 0', async () => {
    const top = await cli(['--help'], {});
    assert.equal(top.code, 0);
    for (const name of ['user', 'customer', 'jwks']) assert.match(top.stdout, new RegExp(`\\n  ${name}\\s`));
    const sub = await cli(['user', '--help'], {});
    assert.equal(sub.code, 0);
    assert.match(sub.stdout, /user create --email/);
  });
});

describe('portcullis CLI without a usable Redis', () => {
  it('explains that the embedded store lives in the server process, and exits non-zero', async () => {
    const res = await cli(['user', 'create', '--email', 'z@example.com', '--password', 'long enough'], {});
    assert.notEqual(res.code, 0);
    assert.equal(res.stdout, '');
    assert.match(res.stderr, /REDIS_URL/);
    assert.match(res.stderr, /embedded store/);
    assert.match(res.stderr, /server\s+process/);
  });

  it('with an unreachable Redis, says so (without the password) and exits 1 instead of retrying forever', async () => {
    const res = await cli(['user', 'create', '--email', 'z@example.com', '--password', 'long enough'], {
      REDIS_URL: 'redis://ops:hunter2@127.0.0.1:1',
    });
    assert.equal(res.code, 1);
    assert.equal(res.stdout, '');
    assert.match(res.stderr, /cannot reach Redis at redis:\/\/ops:\*\*\*@127\.0\.0\.1:1/);
    assert.ok(!res.stderr.includes('hunter2'));
  });

  it('with a bad configuration, says which variable and what it accepts in one line, exit 78 as the server', async () => {
    const res = await cli(['user', 'create', '--email', 'z@example.com', '--password', 'long enough'], {
      REDIS_URL: 'redis://127.0.0.1:1',
      REDIS_COMMAND_TIMEOUT_MS: 'soon',
    });
    assert.equal(res.code, 78, res.stderr);
    assert.equal(res.stdout, '');
    assert.equal(res.stderr, 'portcullis: REDIS_COMMAND_TIMEOUT_MS: expected milliseconds, a whole number from 50 to 60000\n');
  });

  it('generates a private JWKS (RS256 + ES256) the server accepts as JWKS', async () => {
    const res = await cli(['jwks', 'generate'], {});
    assert.equal(res.code, 0, res.stderr);
    const jwks = JSON.parse(res.stdout);
    assert.deepEqual(jwks.keys.map((k: { alg: string }) => k.alg).sort(), ['ES256', 'RS256']);
    for (const k of jwks.keys) assert.ok(k.d && k.kid, 'private keys with kids');

    // A server configured with it signs with those keys and publishes only their public halves.
    const srv = await startTestServer({ store: 'memory', env: { JWKS: res.stdout } });
    try {
      const published = await http(`${srv.url}/.well-known/jwks.json`);
      assert.deepEqual(published.json.keys.map((k: { kid: string }) => k.kid).sort(), jwks.keys.map((k: { kid: string }) => k.kid).sort());
      assert.ok(published.json.keys.every((k: Record<string, unknown>) => !('d' in k)));
    } finally {
      await srv.close();
    }
    // Two runs give different keys.
    const again = JSON.parse((await cli(['jwks', 'generate'], {})).stdout);
    assert.notEqual(again.keys[0].kid, jwks.keys[0].kid);
    await loadConfig({ JWKS: res.stdout, NODE_ENV: 'test', DEV_SECRETS_FILE: '.portcullis/test-secrets.json' });
  });
});
