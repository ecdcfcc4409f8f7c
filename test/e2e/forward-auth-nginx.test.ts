import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { freePort, http, startTestServer, type TestServer } from '../helpers/harness.ts';

/** nginx with the auth_request module (Debian: nginx-light), or why not. */
function findNginx(): { bin: string } | { missing: string } {
  const candidates = [process.env.NGINX_BIN, 'nginx', '/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx'].filter(
    Boolean,
  ) as string[];
  for (const bin of candidates) {
    if (bin.includes('/') && !existsSync(bin)) continue;
    const v = spawnSync(bin, ['-V'], { encoding: 'utf8' });
    if (v.error) continue;
    if (`${v.stdout}${v.stderr}`.includes('http_auth_request_module')) return { bin };
    return { missing: `${bin} has no auth_request module (install Debian's nginx-light)` };
  }
  return { missing: 'nginx is not installed (apt-get install -y nginx-light)' };
}

const nginx = findNginx();
if ('missing' in nginx) {
  console.error(`\n${'!'.repeat(78)}\n!! SKIPPING the nginx forward-auth test: ${nginx.missing}\n${'!'.repeat(78)}\n`);
}

/**
 * The configuration README.md documents, on loopback ports: /api/ needs any valid credential,
 * /write/ needs the "write" scope. auth_request turns any subrequest status other than 2xx, 401
 * and 403 into 500, so the 500 is mapped back to the 429 Portcullis answered (with its headers).
 */
function nginxConf(dir: string, ports: { nginx: number; portcullis: number; app: number }): string {
  const verifyLocation = (name: string, query: string) => `
    location = ${name} {
      internal;
      proxy_pass http://portcullis/v1/auth/verify${query};
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Forwarded-Method $request_method;
      proxy_set_header X-Forwarded-Uri $request_uri;
      proxy_set_header X-Forwarded-Host $host;
      proxy_set_header X-Forwarded-For $remote_addr;
    }`;
  const protectedLocation = (path: string, auth: string) => `
    location ${path} {
      auth_request ${auth};
      auth_request_set $auth_user_id $upstream_http_x_auth_user_id;
      auth_request_set $auth_scopes $upstream_http_x_auth_scopes;
      auth_request_set $auth_method $upstream_http_x_auth_method;
      auth_request_set $auth_key_id $upstream_http_x_auth_key_id;
      auth_request_set $auth_client_id $upstream_http_x_auth_client_id;
      auth_request_set $auth_actor_type $upstream_http_x_auth_actor_type;
      auth_request_set $auth_role $upstream_http_x_auth_role;
      auth_request_set $auth_status $upstream_status;
      auth_request_set $auth_challenge $upstream_http_www_authenticate;
      auth_request_set $auth_retry_after $upstream_http_retry_after;
      auth_request_set $auth_rl_limit $upstream_http_ratelimit_limit;
      auth_request_set $auth_rl_remaining $upstream_http_ratelimit_remaining;
      auth_request_set $auth_rl_reset $upstream_http_ratelimit_reset;
      auth_request_set $auth_rl_policy $upstream_http_ratelimit_policy;
      error_page 403 = @auth_forbidden;
      error_page 500 = @auth_failed;

      proxy_set_header X-Auth-User-Id $auth_user_id;
      proxy_set_header X-Auth-Scopes $auth_scopes;
      proxy_set_header X-Auth-Method $auth_method;
      proxy_set_header X-Auth-Key-Id $auth_key_id;
      proxy_set_header X-Auth-Client-Id $auth_client_id;
      proxy_set_header X-Auth-Actor-Type $auth_actor_type;
      proxy_set_header X-Auth-Role $auth_role;
      proxy_set_header Authorization "";
      add_header RateLimit-Limit $auth_rl_limit always;
      add_header RateLimit-Remaining $auth_rl_remaining always;
      add_header RateLimit-Reset $auth_rl_reset always;
      add_header RateLimit-Policy $auth_rl_policy always;
      proxy_pass http://app;
    }`;
  return `
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 128; }
http {
  access_log off;
  client_body_temp_path ${dir}/client_body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;

  upstream portcullis { server 127.0.0.1:${ports.portcullis}; keepalive 8; }
  upstream app { server 127.0.0.1:${ports.app}; }

  server {
    listen 127.0.0.1:${ports.nginx};
    ${verifyLocation('/_auth', '')}
    ${verifyLocation('/_auth_write', '?scope=write')}
    ${protectedLocation('/api/', '/_auth')}
    ${protectedLocation('/write/', '/_auth_write')}

    location @auth_forbidden {
      default_type application/json;
      add_header WWW-Authenticate $auth_challenge always;
      return 403 '{"error":"insufficient_scope"}';
    }
    location @auth_failed {
      default_type application/json;
      add_header Retry-After $auth_retry_after always;
      add_header RateLimit-Limit $auth_rl_limit always;
      add_header RateLimit-Remaining $auth_rl_remaining always;
      add_header RateLimit-Reset $auth_rl_reset always;
      add_header RateLimit-Policy $auth_rl_policy always;
      if ($auth_status = 429) {
        return 429 '{"error":"rate_limit_exceeded"}';
      }
      return 500 '{"error":"server_error"}';
    }
  }
}
`;
}

describe('nginx auth_request in front of an upstream, asking /v1/auth/verify', { skip: 'missing' in nginx ? nginx.missing : false }, () => {
  let srv: TestServer;
  let upstream: Server;
  let proc: ChildProcess;
  let dir: string;
  let gateway: string;
  const seen: { method: string; url: string; headers: IncomingHttpHeaders }[] = [];
  let developerJwt: string;
  let memberJwt: string;
  let developerId: string;

  before(async () => {
    srv = await startTestServer();
    developerId = (
      await srv.services.accounts.create({ actorType: 'user', email: 'dev@example.com', password: 'correct horse', role: 'developer' })
    ).id;
    await srv.services.accounts.create({ actorType: 'user', email: 'member@example.com', password: 'correct horse', role: 'member' });
    const login = async (username: string) =>
      (await http(`${srv.url}/v1/auth/login`, { method: 'POST', json: { username, password: 'correct horse' } })).json.token as string;
    developerJwt = await login('dev@example.com');
    memberJwt = await login('member@example.com');

    upstream = createServer((req, res) => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers });
      req.resume();
      req.on('end', () => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ upstream: true, user: req.headers['x-auth-user-id'] ?? null }));
      });
    });
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));

    dir = await mkdtemp(join(tmpdir(), 'portcullis-nginx-'));
    const ports = { nginx: await freePort(), portcullis: Number(new URL(srv.origin).port), app: (upstream.address() as AddressInfo).port };
    await writeFile(join(dir, 'nginx.conf'), nginxConf(dir, ports));
    const bin = (nginx as { bin: string }).bin;
    const check = spawnSync(bin, ['-t', '-p', dir, '-c', join(dir, 'nginx.conf')], { encoding: 'utf8' });
    assert.equal(check.status, 0, `nginx -t: ${check.stderr}`);
    proc = spawn(bin, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], { stdio: ['ignore', 'ignore', 'pipe'] });
    gateway = `http://127.0.0.1:${ports.nginx}`;
    for (let i = 0; i < 100; i++) {
      try {
        await fetch(gateway);
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  });

  after(async () => {
    const log = dir ? await readFile(join(dir, 'error.log'), 'utf8').catch(() => '') : '';
    if (/\[(emerg|alert|crit)\]/.test(log)) console.error(log);
    if (proc && proc.exitCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (proc.exitCode === null) proc.kill('SIGKILL');
    }
    await new Promise((r) => upstream?.close(r));
    await srv?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const through = (path: string, init: RequestInit = {}) => http(`${gateway}${path}`, init);
  const lastSeen = () => seen[seen.length - 1]!;

  it('forwards an allowed call with the caller identity in X-Auth-* headers and the quota headers', async () => {
    const before = seen.length;
    const res = await through('/api/orders?page=2', { headers: { authorization: `Bearer ${developerJwt}` } });
    assert.equal(res.status, 200);
    assert.equal(res.json.upstream, true);
    assert.equal(seen.length, before + 1);
    const h = lastSeen().headers;
    assert.equal(h['x-auth-user-id'], developerId);
    assert.equal(h['x-auth-scopes'], 'read write');
    assert.equal(h['x-auth-method'], 'jwt');
    assert.equal(h['x-auth-role'], 'developer');
    assert.equal(h['x-auth-actor-type'], 'user');
    assert.equal(h.authorization, undefined, 'the gateway need not pass the token upstream');
    assert.equal(res.headers.get('ratelimit-limit'), '2000');
    assert.equal(res.headers.get('ratelimit-policy'), '2000;w=3600');
  });

  it('replaces or drops X-Auth-* headers a client sends itself', async () => {
    const res = await through('/api/orders', {
      headers: {
        authorization: `Bearer ${memberJwt}`,
        'x-auth-user-id': 'user_spoofed',
        'x-auth-role': 'admin',
        'x-auth-key-id': 'apk_spoofed',
        'x-auth-scopes': 'read write admin',
      },
    });
    assert.equal(res.status, 200);
    const h = lastSeen().headers;
    assert.notEqual(h['x-auth-user-id'], 'user_spoofed');
    assert.equal(h['x-auth-role'], 'member');
    assert.equal(h['x-auth-scopes'], 'read');
    assert.equal(h['x-auth-key-id'], undefined);
  });

  it('asks with the original method: a POST with a body goes through, and so does OPTIONS only when authenticated', async () => {
    const post = await through('/write/orders', {
      method: 'POST',
      headers: { authorization: `Bearer ${developerJwt}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sku: 'x'.repeat(5000) }),
    });
    assert.equal(post.status, 200);
    assert.equal(lastSeen().method, 'POST');
    const before = seen.length;
    const options = await through('/api/orders', { method: 'OPTIONS' });
    assert.equal(options.status, 401);
    assert.equal(seen.length, before);
  });

  it('refuses a missing or invalid credential with 401 and a Bearer challenge, without calling the upstream', async () => {
    const before = seen.length;
    const missing = await through('/api/orders');
    assert.equal(missing.status, 401);
    assert.equal(missing.headers.get('www-authenticate'), 'Bearer realm="portcullis"');
    const invalid = await through('/api/orders', { headers: { authorization: `Bearer ${developerJwt.slice(0, -6)}` } });
    assert.equal(invalid.status, 401);
    assert.match(invalid.headers.get('www-authenticate') ?? '', /^Bearer realm="portcullis", error="invalid_token"/);
    const garbage = await through('/api/orders', { headers: { authorization: 'Basic !!!not-base64!!!' } });
    assert.equal(garbage.status, 401);
    assert.equal(seen.length, before);
  });

  it('refuses a credential without the required scope with 403 insufficient_scope', async () => {
    const before = seen.length;
    const res = await through('/write/orders', { method: 'DELETE', headers: { authorization: `Bearer ${memberJwt}` } });
    assert.equal(res.status, 403);
    assert.match(res.headers.get('www-authenticate') ?? '', /error="insufficient_scope", scope="write"/);
    assert.equal(res.json.error, 'insufficient_scope');
    assert.equal(seen.length, before);
    // The same member reads fine.
    assert.equal((await through('/api/orders', { headers: { authorization: `Bearer ${memberJwt}` } })).status, 200);
  });

  it('passes a 429 through (not a 500) once the caller spent its quota, with Retry-After and the RateLimit headers', async () => {
    const key = await srv.services.apiKeys.create({
      type: 'secret',
      title: 'gateway client',
      createdBy: developerId,
      scopes: ['read'],
      rateLimit: '2/m',
    });
    const auth = { authorization: `Basic ${Buffer.from(`${key.token}:`).toString('base64')}` };
    for (let i = 0; i < 2; i++) {
      const ok = await through('/api/orders', { headers: auth });
      assert.equal(ok.status, 200);
      assert.equal(lastSeen().headers['x-auth-key-id'], key.key.id);
      assert.equal(lastSeen().headers['x-auth-method'], 'api_key');
    }
    const before = seen.length;
    const limited = await through('/api/orders', { headers: auth });
    assert.equal(limited.status, 429);
    assert.equal(limited.json.error, 'rate_limit_exceeded');
    assert.ok(Number(limited.headers.get('retry-after')) >= 1);
    assert.equal(limited.headers.get('ratelimit-limit'), '2');
    assert.equal(limited.headers.get('ratelimit-remaining'), '0');
    assert.equal(limited.headers.get('ratelimit-policy'), '2;w=60');
    assert.equal(seen.length, before);
    // The gateway's verifications spent the key's quota on Portcullis itself too.
    assert.equal((await http(`${srv.url}/v1/auth/verify`, { headers: auth })).status, 429);
  });
});
