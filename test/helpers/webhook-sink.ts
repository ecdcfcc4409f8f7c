import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Collects what Portcullis posts to NOTIFY_WEBHOOK_URL. */
export async function startWebhookSink(): Promise<{ url: string; events: any[]; server: Server }> {
  const events: any[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      events.push(JSON.parse(body));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, events, server };
}

/** Poll `get` until it yields a value (or fail after timeoutMs). */
export async function eventually<T>(get: () => Promise<T | undefined> | T | undefined, timeoutMs = 5000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await get();
    if (v !== undefined) return v;
    if (Date.now() > until) assert.fail('condition not reached in time');
    await new Promise((r) => setTimeout(r, 50));
  }
}
