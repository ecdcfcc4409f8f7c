import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { http, startTestServer, type TestServer } from '../helpers/harness.ts';

/** The value of one sample line of a Prometheus text exposition (0 when absent). */
function sample(text: string, name: string, labels: Record<string, string> = {}): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = (m[2] ?? '').split(',');
    if (wanted.every((w) => have.includes(w))) return Number(m[3]);
  }
  return 0;
}

describe('GET /metrics (Prometheus)', () => {
  let srv: TestServer;
  const TOKEN = 'metrics-scraper-token-123';
  before(async () => {
    srv = await startTestServer({ env: { METRICS_TOKEN: TOKEN, RATE_LIMIT_JWT: '3/h' } });
    await srv.services.accounts.create({ actorType: 'user', email: 'watched@example.com', password: 'watched password', role: 'member' });
  });
  after(() => srv.close());

  const scrape = async () => {
    const res = await http(`${srv.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    return res.text;
  };

  it('needs METRICS_TOKEN when one is configured', async () => {
    for (const authorization of [undefined, 'Bearer wrong-token-of-some-length', `Bearer ${TOKEN}x`]) {
      const res = await http(`${srv.url}/metrics`, { headers: authorization ? { authorization } : {} });
      assert.equal(res.status, 401);
      assert.ok(!res.text.includes('portcullis_'));
    }
  });

  it('counts requests (fast lane included), password logins by outcome and quota refusals, and names no account or token', async () => {
    const before = await scrape();
    const verified = (t: string) => sample(t, 'portcullis_http_requests_total', { surface: 'v1', method: 'GET', status: '200' });
    const refused = (t: string) => sample(t, 'portcullis_http_requests_total', { surface: 'v1', method: 'GET', status: '429' });
    const logins = (t: string, outcome: string) => sample(t, 'portcullis_password_logins_total', { outcome });

    assert.equal(
      (await http(`${srv.url}/v1/auth/login`, { method: 'POST', json: { username: 'watched@example.com', password: 'wrong' } })).status,
      401,
    );
    const { token } = (
      await http(`${srv.url}/v1/auth/login`, { method: 'POST', json: { username: 'watched@example.com', password: 'watched password' } })
    ).json;
    const verify = () => http(`${srv.url}/v1/auth/verify`, { headers: { authorization: `Bearer ${token}` } });
    for (let i = 0; i < 3; i++) assert.equal((await verify()).status, 200); // the first through the pipeline, then the fast lane
    assert.equal((await verify()).status, 429);

    const after = await scrape();
    assert.equal(verified(after) - verified(before), 3);
    assert.equal(refused(after) - refused(before), 1);
    assert.equal(logins(after, 'success') - logins(before, 'success'), 1);
    assert.equal(logins(after, 'failure') - logins(before, 'failure'), 1);
    assert.equal(
      sample(after, 'portcullis_rate_limited_total', { method: 'user' }) -
        sample(before, 'portcullis_rate_limited_total', { method: 'user' }),
      1,
    );
    assert.ok(sample(after, 'portcullis_http_request_duration_seconds_count', { surface: 'v1' }) >= 5);
    assert.match(after, /^portcullis_password_hashes_queued 0$/m);
    assert.match(after, /^portcullis_process_cpu_seconds_total /m);
    for (const secret of ['watched@example.com', token, 'watched password']) assert.ok(!after.includes(secret));
  });
});
