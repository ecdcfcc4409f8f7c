import { errors, type KoaContextWithOIDC } from 'oidc-provider';

/**
 * RFC 6749 §3.3 lets the server narrow a requested scope, but a request narrowed to nothing would
 * get a code or token that holds no scope while its response (which omits `scope` when empty)
 * reads as "granted as requested". Such a request answers invalid_scope instead: at the
 * authorization step (and PAR) and for client credentials, the steps that take a scope the
 * client chose. OpenID scopes the client was not registered for never get here (the library
 * refuses them against the client's `scope`), so an OpenID scope in the request counts as granted,
 * except for client credentials, whose tokens carry API scopes only.
 */
export function refuseScopeNarrowedToNothing(
  ctx: KoaContextWithOIDC,
  oidcScopes: ReadonlySet<string>,
  clientApiScopes: ReadonlySet<string>,
): void {
  const clientCredentials = ctx.oidc.route === 'token' && ctx.oidc.params?.grant_type === 'client_credentials';
  const chosenHere = clientCredentials || ctx.oidc.route === 'authorization' || ctx.oidc.route === 'pushed_authorization_request';
  const requested = ctx.oidc.params?.scope ? String(ctx.oidc.params.scope).split(' ').filter(Boolean) : [];
  if (!chosenHere || !requested.length) return;
  const granted = requested.some((s) => clientApiScopes.has(s) || (!clientCredentials && oidcScopes.has(s)));
  if (!granted)
    throw new errors.InvalidScope(
      'none of the requested scopes is allowed for this client',
      requested.filter((s) => !clientApiScopes.has(s)).join(' '),
    );
}
