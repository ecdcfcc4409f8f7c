import type { Context } from 'koa';
import type { SignInClient } from '../accounts/sign-ins.ts';

/** Where a sign-in starts from: the client address (TRUST_PROXY applied) and its user agent, for the admin's sign-in list. */
export const signInClientOf = (ctx: Context): SignInClient => ({
  ip: ctx.ip,
  ...(ctx.get('user-agent') ? { userAgent: ctx.get('user-agent') } : {}),
});
