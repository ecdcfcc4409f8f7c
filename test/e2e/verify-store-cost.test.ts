import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createClient } from 'redis';
import { keys } from '../../src/store/keys.ts';
import { http, REDIS_URL, startTestServer, type TestServer } from '../helpers/harness.ts';

/**
 * The verify path's store budget (no scans, one lookup), watched with Redis MONITOR:
 * every command that touches this server's private prefix while it verifies one credential.
 */
describe('what one /v1/auth/verify asks of Redis', () => {
  let srv: TestServer;
  let monitor: ReturnType<typeof createClient>;
  let seen: string[] = [];
  let jwt: string;
  let secretKey: string;

  before(async () => {
    srv = await startTestServer({ env: { RATE_LIMIT_JWT: '100000/h', RATE_LIMIT_API_KEY: '100000/h' } });
    const admin = await srv.services.accounts.create({
      actorType: 'user',
      email: 'cost@example.com',
      password: 'cost of verify',
      role: 'admin',
    });
    secretKey = (await srv.services.apiKeys.create({ type: 'secret', title: 'cost', createdBy: admin.id })).token;
    jwt = (await http(`${srv.url}/v1/auth/login`, { method: 'POST', json: { username: 'cost@example.com', password: 'cost of verify' } }))
      .json.token;
    monitor = createClient({ url: REDIS_URL });
    await monitor.connect();
    const keysPoll = `${srv.prefix}${keys.signingKeysVersion()}`;
    await monitor.monitor((line: string) => {
      // Commands a client sent (a script's own commands are listed too, as "[db lua]": not round
      // trips), but not the signing keys' version poll, which runs every 500 ms whatever the requests.
      if (line.includes(srv.prefix) && !/\[\d+ lua\]/.test(line) && !line.includes(`"${keysPoll}"`)) seen.push(line);
    });
  });
  after(async () => {
    await monitor?.close();
    await srv?.close();
  });

  /** The commands (lower-case names) one verify sends, after `warm` verifications of the same credential. */
  async function commandsOfOneVerify(authorization: string, warm: number): Promise<string[]> {
    for (let i = 0; i < warm; i++) assert.equal((await http(`${srv.url}/v1/auth/verify`, { headers: { authorization } })).status, 200);
    await settle();
    seen = [];
    assert.equal((await http(`${srv.url}/v1/auth/verify`, { headers: { authorization } })).status, 200);
    await settle();
    return seen.map((line) => /"([a-zA-Z]+)"/.exec(line)![1]!.toLowerCase());
  }
  // MONITOR lines arrive asynchronously: a marker command shows everything before it has arrived.
  async function settle(): Promise<void> {
    const marker = `${srv.prefix}marker:${Math.random()}`;
    const client = createClient({ url: REDIS_URL });
    await client.connect();
    await client.get(marker);
    await client.close();
    const until = Date.now() + 5000;
    while (!seen.some((l) => l.includes(marker)) && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
    seen = seen.filter((l) => !l.includes(marker));
  }

  it('a repeated JWT: the revocation record and the quota, nothing else', async () => {
    const commands = await commandsOfOneVerify(`Bearer ${jwt}`, 2);
    assert.deepEqual([...commands].sort(), ['evalsha', 'hmget']);
  });

  it('a secret API key: its record by keyed hash and the quota (the creator is not read on every request), no scan', async () => {
    const commands = await commandsOfOneVerify(`Bearer ${secretKey}`, 2);
    assert.deepEqual([...commands].sort(), ['evalsha', 'get']);
  });
});
