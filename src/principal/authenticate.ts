import type { Context } from 'koa';
import { InvalidTokenError } from '../errors.ts';
import type { CredentialResolver, Principal } from './principal.ts';
import { readCredential } from './read-credential.ts';

declare module 'koa' {
  interface DefaultState {
    principal?: Principal | null;
    /** Why authenticate() failed on this request: it fails the same way again without asking the store twice. */
    authenticationFailure?: unknown;
  }
}

/**
 * authenticate(request) -> Principal. Asks each resolver in turn; the first that owns the
 * credential decides. A credential no resolver owns is invalid. No credential -> null.
 * The result is memoised on the request, so guards, rate limiting and handlers share one lookup;
 * so is a failure: a store that did not answer is not asked again on the same request (the
 * request is answered 503 after one command timeout, not one per guard).
 */
export function createAuthenticator(resolvers: CredentialResolver[], opts: { sessionCookie?: string } = {}) {
  return async function authenticate(ctx: Context): Promise<Principal | null> {
    if (ctx.state.principal !== undefined) return ctx.state.principal;
    if (ctx.state.authenticationFailure !== undefined) throw ctx.state.authenticationFailure;
    try {
      ctx.state.principal = await resolve(ctx);
      return ctx.state.principal;
    } catch (err) {
      ctx.state.authenticationFailure = err;
      throw err;
    }
  };

  async function resolve(ctx: Context): Promise<Principal | null> {
    const credential = readCredential(ctx, opts.sessionCookie);
    if (!credential) return null;
    for (const resolver of resolvers) {
      const found = await resolver.resolve(credential);
      if (found) return found;
    }
    throw new InvalidTokenError();
  }
}
export type Authenticate = ReturnType<typeof createAuthenticator>;
