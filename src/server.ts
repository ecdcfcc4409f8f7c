import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type Koa from 'koa';

/** How long a graceful stop waits for requests in flight before cutting their connections. */
export const SHUTDOWN_GRACE_MS = 10_000;

export interface RunningServer {
  server: Server;
  url: string;
  port: number;
  /** Start serving `app` (when listen was called without one, e.g. to learn the port first). */
  attach(app: Koa): void;
  /**
   * Stop: accept no connection, answer what is in flight with `Connection: close`, close each
   * connection once its response is done, resolve when the last one is (at most graceMs, then cut).
   */
  close(graceMs?: number): Promise<void>;
}

export async function listen(app: Koa | null, port: number, host: string): Promise<RunningServer> {
  const server = createServer();
  const draining = drainOnClose(server);
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
    close: (graceMs = SHUTDOWN_GRACE_MS) =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), graceMs);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        draining.start();
      }),
  };
}

/**
 * server.close() alone stops accepting but leaves kept-alive connections open for as long as their
 * clients keep sending, so a stop under load waited out the whole grace period. Once draining,
 * every response (in flight or new) says `Connection: close` and its connection ends with it.
 * Registered before the app's listener, so it sees each request first.
 */
function drainOnClose(server: Server): { start(): void } {
  let draining = false;
  const inFlight = new Set<ServerResponse>();
  server.on('request', (_req, res: ServerResponse) => {
    if (draining) res.shouldKeepAlive = false;
    inFlight.add(res);
    res.once('close', () => {
      inFlight.delete(res);
      // A response whose head went out before the stop said keep-alive: its connection is idle now.
      if (draining) server.closeIdleConnections();
    });
  });
  return {
    start() {
      draining = true;
      // Node writes `Connection: close` and ends the connection after a response that will not keep alive.
      for (const res of inFlight) if (!res.headersSent) res.shouldKeepAlive = false;
      server.closeIdleConnections();
    },
  };
}
