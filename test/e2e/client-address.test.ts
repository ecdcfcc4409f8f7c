import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { http, startTestServer, type TestServer } from '../helpers/harness.ts';

/**
 * The client address comes from the right of X-Forwarded-For: only the entries our own proxies
 * appended are facts. A client that writes its own entries in front of the one the proxy appends
 * must not spread its failed logins over made-up addresses; X-Forwarded-Proto/-Host follow the
 * same trust. Observed through what a client sees (the failed-login back-off, discovery URLs) and
 * through the request log's `ip`, which every consumer shares.
 */
describe('client address behind proxies (TRUST_PROXY)', () => {
  const servers: TestServer[] = [];
  const logs = new Map<TestServer, Record<string, any>[]>();
  async function start(trustProxy: string, env: Record<string, string> = {}): Promise<TestServer> {
    const lines: Record<string, any>[] = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
        done();
      },
    });
    const srv = await startTestServer({ env: { TRUST_PROXY: trustProxy, LOG_LEVEL: 'info', ...env }, logDestination: sink });
    servers.push(srv);
    logs.set(srv, lines);
    return srv;
  }
  after(async () => {
    for (const srv of servers) await srv.close();
  });

  /** The address the server resolved for one request, as its request log line records it. */
  async function seenAddress(srv: TestServer, headers: Record<string, string>): Promise<string> {
    const reqId = `addr-${Math.random().toString(36).slice(2)}`;
    await http(`${srv.origin}/health`, { headers: { ...headers, 'x-request-id': reqId } });
    for (let i = 0; i < 50; i++) {
      const line = logs.get(srv)!.find((l) => l.reqId === reqId);
      if (line) return line.ip;
      await new Promise((r) => setTimeout(r, 10));
    }
    throw new Error('no request log line');
  }

  describe('TRUST_PROXY=1 (one proxy hop)', () => {
    let srv: TestServer;
    before(async () => {
      srv = await start('1');
      await srv.services.accounts.create({ actorType: 'user', email: 'office@example.com', password: 'correct horse', role: 'member' });
    });
    const login = (username: string, password: string, xff: string) =>
      http(`${srv.url}/v1/auth/login`, { method: 'POST', json: { username, password }, headers: { 'x-forwarded-for': xff } });

    it('a client-chosen entry before the proxy’s does not spread failures over fake addresses', async () => {
      for (let i = 0; i < 20; i++)
        assert.equal((await login(`spray${i}@example.com`, 'wrong password', `10.9.${i}.1, 203.0.113.7`)).status, 401);
      const next = await login('spray-next@example.com', 'wrong password', '10.9.200.1, 203.0.113.7');
      assert.equal(next.status, 429, 'the 21st failure from 203.0.113.7 backs off, whatever the client put in front');
      assert.equal((await login('office@example.com', 'correct horse', '10.9.201.1, 203.0.113.7')).status, 429);
      assert.equal((await login('office@example.com', 'correct horse', '203.0.113.8')).status, 200, 'another address is not affected');
    });

    it('groups bracketed IPv6 clients (with or without a port) by /64', async () => {
      for (let i = 0; i < 20; i++) {
        const address = i % 2 ? `[2001:db8:7:7::${i.toString(16)}]:${40000 + i}` : `[2001:db8:7:7:${i.toString(16)}::1]`;
        assert.equal((await login(`v6spray${i}@example.com`, 'wrong password', address)).status, 401);
      }
      assert.equal(
        (await login('office@example.com', 'correct horse', '2001:db8:7:7:ffff::2')).status,
        429,
        'the same /64, written plainly',
      );
      assert.equal((await login('office@example.com', 'correct horse', '[2001:db8:7:8::1]')).status, 200, 'the next /64 is another client');
    });

    it('resolves the address from the right for every consumer (request log) and the scheme/host a proxy appended', async () => {
      assert.equal(await seenAddress(srv, { 'x-forwarded-for': '1.2.3.4, 198.51.100.9' }), '198.51.100.9');
      assert.equal(await seenAddress(srv, { 'x-forwarded-for': '198.51.100.10' }), '198.51.100.10');
      assert.equal(await seenAddress(srv, {}), '127.0.0.1', 'no header: the peer itself');
      assert.equal(await seenAddress(srv, { 'x-forwarded-for': 'not-an-ip' }), 'unknown');
      const d = await http(`${srv.origin}/.well-known/openid-configuration`, {
        headers: { 'x-forwarded-host': 'evil.example, auth.example.com', 'x-forwarded-proto': 'http, https' },
      });
      assert.equal(
        d.json.authorization_endpoint,
        'https://auth.example.com/oauth/authorize',
        'the value the proxy appended, not the client’s',
      );
    });
  });

  it('TRUST_PROXY=2: the client is two entries left of the peer', async () => {
    const srv = await start('2');
    assert.equal(await seenAddress(srv, { 'x-forwarded-for': '6.6.6.6, 198.51.100.21, 10.0.0.5' }), '198.51.100.21');
    assert.equal(await seenAddress(srv, { 'x-forwarded-for': '198.51.100.22, 10.0.0.5' }), '198.51.100.22');
  });

  it('TRUST_PROXY=<proxy list>: skips listed proxies from the right; an unlisted peer is the client and its X-Forwarded-* are ignored', async () => {
    const trusted = await start('127.0.0.1, 10.0.0.0/8');
    assert.equal(await seenAddress(trusted, { 'x-forwarded-for': '6.6.6.6, 198.51.100.30, 10.1.2.3, 10.0.0.9' }), '198.51.100.30');
    assert.equal(await seenAddress(trusted, { 'x-forwarded-for': '10.1.2.3' }), '10.1.2.3', 'only proxies: the furthest one');
    const d = await http(`${trusted.origin}/.well-known/openid-configuration`, {
      headers: { 'x-forwarded-host': 'auth.example.com', 'x-forwarded-proto': 'https' },
    });
    assert.equal(d.json.authorization_endpoint, 'https://auth.example.com/oauth/authorize');

    const untrusted = await start('10.0.0.0/8');
    assert.equal(
      await seenAddress(untrusted, { 'x-forwarded-for': '198.51.100.31' }),
      '127.0.0.1',
      'the peer is no listed proxy: its header is the client’s own claim',
    );
    const u = await http(`${untrusted.origin}/.well-known/openid-configuration`, {
      headers: { 'x-forwarded-host': 'auth.example.com', 'x-forwarded-proto': 'https' },
    });
    assert.equal(u.json.authorization_endpoint, `${untrusted.origin}/oauth/authorize`);
  });

  it('refuses to start on a TRUST_PROXY it cannot read (exit 78, naming the variable) instead of taking it as off', async () => {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_ENV: 'test',
      PORT: '0',
      HOST: '127.0.0.1',
      DEV_SECRETS_FILE: '.portcullis/test-secrets.json',
      TRUST_PROXY: 'enabled',
    };
    delete env.REDIS_URL;
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      env,
    });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    // A server that took the value as off would keep running: stop it and fail.
    const running = setTimeout(() => child.kill(), 15_000);
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    clearTimeout(running);
    assert.equal(code, 78, stderr);
    assert.match(stderr, /TRUST_PROXY/);
  });

  it('TRUST_PROXY off: X-Forwarded-For is ignored', async () => {
    const srv = await start('off');
    assert.equal(await seenAddress(srv, { 'x-forwarded-for': '198.51.100.40' }), '127.0.0.1');
  });
});
