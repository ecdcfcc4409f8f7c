import Router from '@koa/router';
import { z } from 'zod';
import { InvalidCredentialsError } from '../../errors.ts';
import { signInClientOf } from '../../http/sign-in-client.ts';
import { defineRoute } from '../../http/route.ts';
import type { Services } from '../../services.ts';
import { medusaErr, passwordLoginBody, userSchema, userView } from '../medusa-shapes.ts';

/** POST /admin/auth/token: the seed document's password login for back-office users. */
export function createAdminAuthRouter(s: Services): Router {
  const router = new Router();
  defineRoute(
    router,
    s.operations,
    {
      method: 'post',
      path: '/admin/auth/token',
      tags: ['admin'],
      summary: 'Exchange a back-office user email and password for an admin JWT (ADMIN_TOKEN_TTL)',
      body: passwordLoginBody,
      responses: {
        200: {
          description: 'The JWT (also as access_token, for v1 clients) and the user',
          schema: z.object({ token: z.string(), access_token: z.string(), user: userSchema }),
        },
        400: medusaErr('invalid_data'),
        401: medusaErr('Unauthorized'),
      },
    },
    async (ctx, { body }) => {
      const account = await s.passwordLogin(ctx, 'user', body.email, body.password);
      if (!account) throw new InvalidCredentialsError();
      const { token } = await s.actorTokens.issue(account, undefined, signInClientOf(ctx));
      ctx.body = { token, access_token: token, user: userView(account) };
    },
  );
  return router;
}
