import type Router from '@koa/router';
import type { Middleware } from 'koa';
import { cors } from '../../http/cors.ts';
import type { Services } from '../../services.ts';
import { createAdminApiKeysRouter } from './api-keys.ts';
import { createAdminAuditEventsRouter } from './audit-events.ts';
import { createAdminAuthRouter } from './auth.ts';
import { adminGuard } from './guard.ts';
import { createAdminSalesChannelsRouter } from './sales-channels.ts';
import { createAdminUsersRouter } from './users.ts';
import { createAdminOAuthClientsRouter } from './oauth-clients.ts';
import { createAdminSignInsRouter } from './sign-ins.ts';
import { createAdminGrantsRouter } from './grants.ts';
import { createAdminCustomersRouter } from './customers.ts';
import { createAdminOverviewRouter } from './overview.ts';
import { createAdminSigningKeysRouter } from './signing-keys.ts';

/** CORS (ADMIN_CORS; AUTH_CORS too for /admin/auth/*), then the admin guard: before every /admin route. */
export function adminBefore(s: Services): Middleware[] {
  return [cors([{ origins: s.config.cors.admin }, { pathPrefix: '/admin/auth', origins: s.config.cors.auth }]), adminGuard(s.authenticate)];
}

export function createAdminRouters(s: Services): Router[] {
  return [
    createAdminAuthRouter(s),
    createAdminUsersRouter(s),
    createAdminApiKeysRouter(s),
    createAdminSalesChannelsRouter(s),
    createAdminOAuthClientsRouter(s),
    createAdminSignInsRouter(s),
    createAdminGrantsRouter(s),
    createAdminCustomersRouter(s),
    createAdminAuditEventsRouter(s),
    createAdminOverviewRouter(s),
    createAdminSigningKeysRouter(s),
  ];
}
