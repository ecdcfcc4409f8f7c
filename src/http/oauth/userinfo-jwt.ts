import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { FindAccount, KoaContextWithOIDC } from 'oidc-provider';
import { AppError } from '../../errors.ts';
import type { Authenticate } from '../../principal/authenticate.ts';
import { OAUTH_ACCESS_TOKEN_TYP } from '../../principal/oauth-access-token.ts';
import { isJwtOfType } from '../../principal/first-party-jwt.ts';
import { readBearer } from '../../principal/read-credential.ts';
import { CLAIMS } from '../../oauth/accounts.ts';
import { isUnavailable, RETRY_AFTER_SECONDS } from '../../oauth/unavailable.ts';

/**
 * /oauth/userinfo for our JWT access tokens. oidc-provider answers userinfo only for the opaque
 * tokens it stores; an app that asked for `openid profile read` holds a JWT for the API and would
 * otherwise be refused. Here the JWT is verified like on /v1/auth/verify (signature, audience,
 * revocation), and the claims follow the OpenID scopes its grant holds. Returns false when the
 * request is not ours to answer (no at+jwt bearer), leaving it to the provider.
 */
export async function answerUserinfoForJwt(
  ctx: Context,
  deps: { provider: Provider; authenticate: Authenticate; findAccount: FindAccount },
): Promise<boolean> {
  try {
    return await answer(ctx, deps);
  } catch (err) {
    if (!isUnavailable(err)) throw err;
    ctx.status = 503;
    ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
    ctx.body = { error: 'temporarily_unavailable', error_description: 'The service is temporarily unavailable, retry shortly' };
    return true;
  }
}

async function answer(ctx: Context, deps: { provider: Provider; authenticate: Authenticate; findAccount: FindAccount }): Promise<boolean> {
  const token = readBearer(ctx);
  if (!token || !isJwtOfType(token, OAUTH_ACCESS_TOKEN_TYP)) return false;
  ctx.set('Cache-Control', 'no-store');
  const refuse = (status: number, error: string, description: string) => {
    ctx.status = status;
    ctx.set('WWW-Authenticate', `Bearer error="${error}", error_description="${description}"`);
    ctx.body = { error, error_description: description };
    return true;
  };
  let principal;
  try {
    principal = await deps.authenticate(ctx);
  } catch (err) {
    if (err instanceof AppError && err.status === 401) return refuse(401, 'invalid_token', 'invalid token provided');
    throw err;
  }
  if (!principal || principal.method !== 'oauth' || principal.kind === 'client' || !principal.sid)
    return refuse(401, 'invalid_token', 'invalid token provided');
  // CORS as the provider's userinfo does it: the origin of one of the client's redirect URIs.
  const origin = ctx.get('origin');
  const client = origin ? await deps.provider.Client.find(principal.clientId ?? '') : undefined;
  if (origin && client?.redirectUris?.some((uri) => URL.parse(uri)?.origin === origin)) {
    ctx.vary('Origin');
    ctx.set('Access-Control-Allow-Origin', origin);
    ctx.set('Access-Control-Expose-Headers', 'WWW-Authenticate');
  }
  const grant = await deps.provider.Grant.find(principal.sid);
  const scopes = new Set(grant?.getOIDCScope().split(' ').filter(Boolean) ?? []);
  if (!grant || !scopes.has('openid')) return refuse(403, 'insufficient_scope', 'access token missing openid scope');
  const account = await deps.findAccount(ctx as unknown as KoaContextWithOIDC, principal.id);
  if (!account) return refuse(401, 'invalid_token', 'invalid token provided');
  const all = (await account.claims('userinfo', [...scopes].join(' '), {}, [])) as Record<string, unknown>;
  const allowed = new Set(
    Object.entries(CLAIMS)
      .filter(([scope]) => scopes.has(scope))
      .flatMap(([, claims]) => claims),
  );
  ctx.status = 200;
  ctx.body = Object.fromEntries(Object.entries(all).filter(([claim]) => allowed.has(claim)));
  return true;
}
