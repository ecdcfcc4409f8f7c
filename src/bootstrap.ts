import type { Services } from './services.ts';

/** BOOTSTRAP_ADMIN_EMAIL/PASSWORD: create that admin at start if it does not exist yet. */
export async function bootstrapAdmin(s: Services): Promise<void> {
  const wanted = s.config.bootstrapAdmin;
  if (!wanted) return;
  if (await s.accounts.findByEmail('user', wanted.email)) return;
  try {
    const user = await s.accounts.create({ actorType: 'user', email: wanted.email, password: wanted.password, role: 'admin' });
    s.logger.info({ userId: user.id }, 'bootstrap admin created');
  } catch (err) {
    // Another instance created it first.
    if ((err as { code?: string }).code !== 'duplicate_email') throw err;
  }
}
