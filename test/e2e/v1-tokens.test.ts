import assert from 'node:assert/strict';
import { createHmac, createPublicKey } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, it } from 'node:test';
import { decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, SignJWT, type JWTPayload } from 'jose';
import { http, startTestServer, type TestServer } from '../helpers/harness.ts';

const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/** The /v1 error body: {error, message, code, timestamp}. */
function assertV1Error(res: { status: number; json: any }, status: number, error: string) {
  assert.equal(res.status, status, JSON.stringify(res.json));
  assert.equal(res.json?.error, error, JSON.stringify(res.json));
  assert.equal(res.json.code, status);
  assert.equal(typeof res.json.message, 'string');
  assert.ok(!Number.isNaN(Date.parse(res.json.timestamp)), 'timestamp is ISO 8601');
}

describe('/v1/auth/verify refuses every token it did not issue, intact and unexpired', () => {
  let srv: TestServer;
  let good: string;
  let claims: JWTPayload;
  before(async () => {
    srv = await startTestServer();
    await srv.services.accounts.create({ actorType: 'user', email: 'dev@example.com', password: 'correct horse', role: 'developer' });
    const res = await http(`${srv.url}/v1/auth/login`, {
      method: 'POST',
      json: { username: 'dev@example.com', password: 'correct horse' },
    });
    assert.equal(res.status, 200);
    good = res.json.token;
    claims = decodeJwt(good);
  });
  after(() => srv.close());

  const verify = (authorization?: string) =>
    http(`${srv.url}/v1/auth/verify`, { headers: authorization === undefined ? {} : { authorization } });
  const bearer = (token: string) => verify(`Bearer ${token}`);

  /** Sign with the server's own key, as only the server could. */
  async function signOurs(payload: JWTPayload, header: Record<string, unknown> = {}) {
    const signer = srv.services.keystore.signingKey();
    return new SignJWT(payload).setProtectedHeader({ alg: signer.alg, kid: signer.kid, typ: 'JWT', ...header }).sign(signer.key);
  }

  it('accepts the genuine token (control)', async () => {
    const res = await bearer(good);
    assert.equal(res.status, 200);
    assert.equal(res.json.user_id, claims.sub);
  });

  it('accepts a token it signs itself with the same claims (control for the crafted tokens below)', async () => {
    assert.equal((await bearer(await signOurs({ ...claims, jti: 'control-1' }))).status, 200);
  });

  it('refuses alg "none" (unsigned), with or without a signature part', async () => {
    for (const typ of ['JWT', undefined]) {
      const unsigned = `${b64({ alg: 'none', ...(typ ? { typ } : {}) })}.${b64(claims)}`;
      assertV1Error(await bearer(`${unsigned}.`), 401, 'invalid_token');
      assertV1Error(await bearer(`${unsigned}.${good.split('.')[2]}`), 401, 'invalid_token');
    }
  });

  it('refuses a token signed by a foreign key, under a foreign kid or under ours', async () => {
    for (const alg of ['RS256', 'ES256'] as const) {
      const { privateKey } = await generateKeyPair(alg);
      const foreign = await new SignJWT(claims).setProtectedHeader({ alg, kid: 'attacker-key', typ: 'JWT' }).sign(privateKey);
      assertV1Error(await bearer(foreign), 401, 'invalid_token');
      const ourKid = srv.services.keystore.publicJwks.keys.find((k) => k.alg === alg)!.kid!;
      const spoofed = await new SignJWT(claims).setProtectedHeader({ alg, kid: ourKid, typ: 'JWT' }).sign(privateKey);
      assertV1Error(await bearer(spoofed), 401, 'invalid_token');
    }
  });

  it('refuses HS256 "signed" with our public key (algorithm confusion)', async () => {
    const rsa = srv.services.keystore.publicJwks.keys.find((k) => k.kty === 'RSA')!;
    const pem = createPublicKey({ key: rsa as never, format: 'jwk' })
      .export({ type: 'spki', format: 'pem' })
      .toString();
    for (const secret of [
      pem,
      JSON.stringify(rsa),
      JSON.stringify(await exportJWK(createPublicKey({ key: rsa as never, format: 'jwk' }))),
    ]) {
      const input = `${b64({ alg: 'HS256', kid: rsa.kid, typ: 'JWT' })}.${b64(claims)}`;
      const mac = createHmac('sha256', secret).update(input).digest('base64url');
      assertV1Error(await bearer(`${input}.${mac}`), 401, 'invalid_token');
    }
  });

  it('refuses a wrong issuer, a wrong audience, a wrong typ and missing claims, even when signed by our key', async () => {
    const cases: [string, Promise<string>][] = [
      ['issuer', signOurs({ ...claims, iss: 'https://evil.example' })],
      ['no issuer', signOurs({ ...claims, iss: undefined })],
      ['audience', signOurs({ ...claims, aud: 'https://another-service.example' })],
      ['no audience', signOurs({ ...claims, aud: undefined })],
      ['no sid', signOurs({ ...claims, sid: undefined })],
      ['no jti', signOurs({ ...claims, jti: undefined })],
      ['no exp', signOurs({ ...claims, exp: undefined })],
      ['unknown actor_type', signOurs({ ...claims, actor_type: 'superuser' })],
      ['typ', signOurs(claims, { typ: 'id_token+jwt' })],
      ['not yet valid', signOurs({ ...claims, nbf: Math.floor(Date.now() / 1000) + 3600 })],
    ];
    for (const [label, token] of cases) {
      const res = await bearer(await token);
      assert.equal(res.status, 401, `${label}: ${res.status} ${res.text}`);
      assert.equal(res.json.error, 'invalid_token', label);
    }
  });

  it('refuses a tampered payload (scope raised, subject swapped)', async () => {
    const [h, , sig] = good.split('.');
    for (const forged of [
      { ...claims, scope: 'read write admin' },
      { ...claims, sub: 'user_01ATTACKER0000000000000000' },
    ]) {
      assertV1Error(await bearer(`${h}.${b64(forged)}.${sig}`), 401, 'invalid_token');
    }
  });

  it('refuses truncated and mangled tokens', async () => {
    const [h, p, sig] = good.split('.');
    for (const bad of [
      good.slice(0, -5),
      `${h}.${p}`,
      `${h}.${p}.`,
      `${h}..${sig}`,
      `.${p}.${sig}`,
      `${h}.${p}.${sig}.extra`,
      h,
      'a.b.c',
      '%%%.%%%.%%%',
      'x'.repeat(8000),
    ]) {
      assertV1Error(await bearer(bad), 401, 'invalid_token');
    }
  });

  it('answers token_expired for an expired token, and honours a small clock tolerance', async () => {
    const now = Math.floor(Date.now() / 1000);
    assertV1Error(await bearer(await signOurs({ ...claims, jti: 'expired', iat: now - 3600, exp: now - 60 })), 401, 'token_expired');
    // Seconds of clock skew between us and a client are tolerated (5 s).
    assert.equal((await bearer(await signOurs({ ...claims, jti: 'skewed', iat: now - 3600, exp: now - 2 }))).status, 200);
  });

  it('answers token_expired for a real short-lived token once it has expired', async () => {
    // Same keys, same issuer and audience, a 1-second ACCESS_TOKEN_TTL: what the server itself issues.
    const short = await startTestServer({ env: { ACCESS_TOKEN_TTL: '1' }, prefix: srv.prefix });
    try {
      const login = await http(`${short.url}/v1/auth/login`, {
        method: 'POST',
        json: { username: 'dev@example.com', password: 'correct horse' },
      });
      assert.equal(login.status, 200);
      assert.equal(login.json.expires_in, 1);
      const token = login.json.token;
      // The token names its issuer; verify it where it was issued.
      assert.equal((await http(`${short.url}/v1/auth/verify`, { headers: { authorization: `Bearer ${token}` } })).status, 200);
      const exp = decodeJwt(token).exp! * 1000;
      await sleep(Math.max(0, exp + 5_000 - Date.now()) + 1_100);
      assertV1Error(await http(`${short.url}/v1/auth/verify`, { headers: { authorization: `Bearer ${token}` } }), 401, 'token_expired');
    } finally {
      await short.close();
    }
  });

  it('refuses a missing or malformed Authorization header with 401 and a Bearer challenge', async () => {
    for (const header of [
      undefined,
      '',
      'Bearer',
      'Bearer ',
      'bearer',
      `Token ${good}`,
      `Bearer ${good} extra`,
      `Bearer  ${good}x`,
      'Basic',
      'Basic !!!notbase64',
      'Basic ' + b64('nocolon'),
      'garbage',
    ]) {
      const res = await verify(header);
      assert.equal(res.status, 401, `${JSON.stringify(header)} -> ${res.status} ${res.text}`);
      assert.ok(['invalid_token', 'token_expired'].includes(res.json.error), `${JSON.stringify(header)} -> ${res.text}`);
      assert.match(res.headers.get('www-authenticate') ?? '', /^Bearer/, `${JSON.stringify(header)}`);
    }
  });

  it('the scheme is case-insensitive (RFC 7235)', async () => {
    assert.equal((await verify(`bearer ${good}`)).status, 200);
  });

  it('never trusts the header alone: the kid must be ours and the signature must match', () => {
    // (a sanity check that the genuine token names one of the published keys)
    const kid = decodeProtectedHeader(good).kid;
    assert.ok(srv.services.keystore.publicJwks.keys.some((k) => k.kid === kid));
  });
});

describe('REFRESH_REUSE_GRACE', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer({ env: { REFRESH_REUSE_GRACE: '1' } });
    await srv.services.accounts.create({ actorType: 'user', email: 'tabs@example.com', password: 'correct horse', role: 'member' });
  });
  after(() => srv.close());

  const login = async () =>
    (await http(`${srv.url}/v1/auth/login`, { method: 'POST', json: { username: 'tabs@example.com', password: 'correct horse' } })).json;
  const refresh = (refresh_token: string) => http(`${srv.url}/v1/auth/refresh`, { method: 'POST', json: { refresh_token } });
  const verify = (token: string) => http(`${srv.url}/v1/auth/verify`, { headers: { authorization: `Bearer ${token}` } });

  it('gives a reuse within the window the same successor pair, and the family stays valid', async () => {
    const first = await login();
    const a = await refresh(first.refresh_token);
    assert.equal(a.status, 200);
    const b = await refresh(first.refresh_token);
    assert.equal(b.status, 200);
    assert.equal(b.json.refresh_token, a.json.refresh_token);
    assert.equal(b.json.token, a.json.token);
    assert.equal((await verify(a.json.token)).status, 200);
    // The successor rotates normally.
    assert.equal((await refresh(a.json.refresh_token)).status, 200);
  });

  it('concurrent uses of one refresh token (several tabs) all receive the one successor pair', async () => {
    const first = await login();
    const results = await Promise.all(Array.from({ length: 6 }, () => refresh(first.refresh_token)));
    assert.ok(
      results.every((r) => r.status === 200),
      results.map((r) => r.status).join(','),
    );
    assert.equal(new Set(results.map((r) => r.json.refresh_token)).size, 1, 'one successor, not several');
  });

  it('after the window, reuse revokes the family (successor refresh token and access token)', async () => {
    const first = await login();
    const a = (await refresh(first.refresh_token)).json;
    await sleep(1_300);
    assertV1Error(await refresh(first.refresh_token), 401, 'invalid_token');
    assertV1Error(await refresh(a.refresh_token), 401, 'invalid_token');
    assertV1Error(await verify(a.token), 401, 'invalid_token');
    assertV1Error(await verify(first.token), 401, 'invalid_token');
  });

  it('a reused token that was never ours (wrong secret for a real family) is just invalid', async () => {
    const first = await login();
    const [family] = first.refresh_token.split('.');
    assertV1Error(await refresh(`${family}.${'A'.repeat(43)}`), 401, 'invalid_token');
    assert.equal((await refresh(first.refresh_token)).status, 200, 'the real token is unaffected');
  });
});

describe('/v1/auth bad input: 400/413/415 with the v1 body, never 500', () => {
  let srv: TestServer;
  before(async () => {
    srv = await startTestServer();
    await srv.services.accounts.create({ actorType: 'user', email: 'input@example.com', password: 'correct horse', role: 'member' });
  });
  after(() => srv.close());

  const post = (path: string, body: string | Buffer | Uint8Array, contentType: string | null = 'application/json') =>
    http(`${srv.url}${path}`, { method: 'POST', body: body as BodyInit, headers: contentType ? { 'content-type': contentType } : {} });

  it('login: malformed JSON, missing fields, wrong types, unknown fields -> 400 invalid_request', async () => {
    const bodies = [
      '{"username": "input@example.com", "password": ',
      '{"username": "input@example.com", "password": "correct horse",}',
      "{'username': 'input@example.com'}",
      '{}',
      '{"username": "input@example.com"}',
      '{"password": "correct horse"}',
      '{"username": 42, "password": "correct horse"}',
      '{"username": "input@example.com", "password": ["correct horse"]}',
      '{"username": "input@example.com", "password": null}',
      '{"username": "", "password": "correct horse"}',
      '{"username": "input@example.com", "password": "correct horse", "actor_type": "robot"}',
      '{"username": "input@example.com", "password": "correct horse", "role": "admin"}',
      '{"username": {"$ne": null}, "password": {"$ne": null}}',
      '[]',
      '["input@example.com", "correct horse"]',
      'null',
      '"input@example.com"',
      '42',
      'true',
      JSON.stringify({ username: 'input@example.com', password: 'x'.repeat(2000) }),
      JSON.stringify({ username: 'u'.repeat(400) + '@example.com', password: 'correct horse' }),
    ];
    for (const body of bodies) assertV1Error(await post('/v1/auth/login', body), 400, 'invalid_request');
  });

  it('refresh: malformed JSON, missing field, wrong types, unknown fields -> 400; a wrong token -> 401', async () => {
    for (const body of [
      '{"refresh_token": ',
      '{}',
      '{"refresh_token": 123}',
      '{"refresh_token": null}',
      '{"refresh_token": ""}',
      '{"refresh_token": "rt_x", "extra": 1}',
      '[]',
      'null',
    ]) {
      assertV1Error(await post('/v1/auth/refresh', body), 400, 'invalid_request');
    }
    for (const token of ['rt_garbage', 'not-a-token', `rt_01ARZ3NDEKTSV4RRFFQ69G5FAV.${'A'.repeat(43)}`]) {
      assertV1Error(await post('/v1/auth/refresh', JSON.stringify({ refresh_token: token })), 401, 'invalid_token');
    }
  });

  it('oversized bodies -> 413 (declared or streamed), on login and refresh', async () => {
    const big = JSON.stringify({ username: 'input@example.com', password: 'correct horse', pad: 'x'.repeat(srv.config.bodyLimit) });
    for (const path of ['/v1/auth/login', '/v1/auth/refresh']) {
      const res = await post(path, big);
      assert.equal(res.status, 413);
      assert.equal(res.json.code, 413);
      assert.equal(typeof res.json.error, 'string');
      assert.ok(res.json.timestamp);
    }
    // Streamed without a Content-Length: cut off when it passes the limit.
    const chunks = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 20; i++) controller.enqueue(new TextEncoder().encode('x'.repeat(10 * 1024)));
        controller.close();
      },
    });
    const res = await fetch(`${srv.url}/v1/auth/login`, {
      method: 'POST',
      body: chunks,
      headers: { 'content-type': 'application/json' },
      duplex: 'half',
    } as RequestInit);
    assert.equal(res.status, 413);
  });

  it('form-encoded logins are read like JSON ones; a bad form is 400', async () => {
    const ok = await post(
      '/v1/auth/login',
      new URLSearchParams({ username: 'input@example.com', password: 'correct horse' }).toString(),
      'application/x-www-form-urlencoded',
    );
    assert.equal(ok.status, 200);
    assert.ok(ok.json.token);
    for (const form of [
      'username=input%40example.com',
      'username=a&username=b&password=correct+horse',
      'username=input%40example.com&password=correct+horse&admin=1',
      '%%%',
    ]) {
      assertV1Error(await post('/v1/auth/login', form, 'application/x-www-form-urlencoded'), 400, 'invalid_request');
    }
  });

  it('other media types -> 415, invalid UTF-8 -> 400, still in the v1 body', async () => {
    for (const type of ['text/plain', 'application/xml', 'multipart/form-data; boundary=x']) {
      const res = await post('/v1/auth/login', '{"username":"input@example.com","password":"correct horse"}', type);
      assert.equal(res.status, 415, type);
      assert.equal(res.json.code, 415);
    }
    assertV1Error(await post('/v1/auth/login', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])), 400, 'invalid_request');
  });

  it('unknown /v1 paths and methods answer in the v1 body', async () => {
    const missing = await http(`${srv.url}/v1/auth/nope`);
    assert.equal(missing.status, 404);
    assert.equal(missing.json.code, 404);
    assertV1Error(await http(`${srv.url}/v1/auth/login`), 405, 'method_not_allowed');
    assertV1Error(await http(`${srv.url}/v1/auth/refresh`, { method: 'DELETE' }), 405, 'method_not_allowed');
  });
});
