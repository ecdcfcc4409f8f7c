import type { Context } from 'koa';
import { InvalidTokenError } from '../http/errors.ts';
import type { CredentialResolver, Principal } from './principal.ts';
import { readCredential } from './read-credential.ts';

declare module 'koa' {
  interface DefaultState {
    principal?: Principal | null;
  }
}

/**
 * authenticate(request) -> Principal. Asks each resolver in turn; the first that owns the
 * credential decides. A credential no resolver owns is invalid. No credential -> null.
 * The result is memoised on the request, so guards, rate limiting and handlers share one lookup.
 */
export function createAuthenticator(resolvers: CredentialResolver[], opts: { sessionCookie?: string } = {}) {
  return async function authenticate(ctx: Context): Promise<Principal | null> {
    if (ctx.state.principal !== undefined) return ctx.state.principal;
    const credential = readCredential(ctx, opts.sessionCookie);
    let principal: Principal | null = null;
    if (credential) {
      for (const resolver of resolvers) {
        const found = await resolver.resolve(credential);
        if (found) {
          principal = found;
          break;
        }
      }
      if (!principal) throw new InvalidTokenError();
    }
    ctx.state.principal = principal;
    return principal;
  };
}
export type Authenticate = ReturnType<typeof createAuthenticator>;
