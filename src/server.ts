import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';

export interface RunningServer {
  server: Server;
  url: string;
  port: number;
  /** Start serving `app` (when listen was called without one, e.g. to learn the port first). */
  attach(app: Koa): void;
  /** Stop accepting, let in-flight requests finish (up to graceMs), then resolve. */
  close(graceMs?: number): Promise<void>;
}

export async function listen(app: Koa | null, port: number, host: string): Promise<RunningServer> {
  const server = createServer();
  const attach = (a: Koa) => void server.on('request', a.callback());
  if (app) attach(app);
  // Requests that stall (slowloris) are cut off; keep-alive outlives common proxies' pools.
  server.requestTimeout = 30_000;
  server.headersTimeout = 15_000;
  server.keepAliveTimeout = 65_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const { port: actual } = server.address() as AddressInfo;
  const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  return {
    server,
    url: `http://${shownHost}:${actual}`,
    port: actual,
    attach,
    close: (graceMs = 10_000) =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), graceMs);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
