import type { Services } from './services.ts';
import { StoreUnavailableError } from './store/port.ts';

/** BOOTSTRAP_ADMIN_EMAIL/PASSWORD: create that admin at start if it does not exist yet. */
export async function bootstrapAdmin(s: Services): Promise<void> {
  const wanted = s.config.bootstrapAdmin;
  if (!wanted) return;
  if (await s.accounts.findByEmail('user', wanted.email)) return;
  try {
    const user = await s.accounts.create({ actorType: 'user', email: wanted.email, password: wanted.password, role: 'admin' });
    s.logger.info({ userId: user.id }, 'bootstrap admin created');
    await s.audit.record('user.created', { subject: { type: 'user', id: user.id }, data: { role: 'admin', via: 'bootstrap' } });
  } catch (err) {
    // Another instance created it first.
    if ((err as { code?: string }).code !== 'duplicate_email') throw err;
  }
}

const RETRY_MS = 2000;

/**
 * bootstrapAdmin now if the store answers (so the admin exists once the server listens);
 * otherwise resolve at once and retry in the background until the store is reachable
 * (the server starts without Redis and serves 503 until it comes up).
 */
export async function bootstrapAdminWhenReady(s: Services, opts: { background: (err: Error) => void }): Promise<void> {
  try {
    return await bootstrapAdmin(s);
  } catch (err) {
    if (!(err instanceof StoreUnavailableError)) throw err;
  }
  s.logger.warn('store unavailable: the bootstrap admin will be created when it is reachable');
  void (async () => {
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, RETRY_MS).unref());
      try {
        return await bootstrapAdmin(s);
      } catch (err) {
        if (!(err instanceof StoreUnavailableError)) return opts.background(err as Error);
      }
    }
  })();
}
