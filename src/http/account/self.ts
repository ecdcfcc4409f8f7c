import type { Context, Middleware } from 'koa';
import type { Account, Accounts } from '../../accounts/accounts.ts';
import type { SignIns, SignInView } from '../../accounts/sign-ins.ts';
import type { Audit, AuditEvent } from '../../audit/audit.ts';
import { ForbiddenError, InvalidTokenError } from '../../errors.ts';
import type { Authenticate } from '../../principal/authenticate.ts';
import type { Principal } from '../../principal/principal.ts';
import { SESSION_COOKIE, sessionSignInRef } from '../../principal/session.ts';

/**
 * Credentials that are the person themself: a first-party JWT (/v1 or a Medusa user/customer
 * token) or the session cookie. An API key, an OAuth access token (an app acting for the person,
 * within the scopes they granted it) and a client's own token are not: none of them may change the
 * password, end sign-ins or withdraw grants. A registration token authenticates no one.
 */
export const SELF_METHODS: readonly Principal['method'][] = ['jwt', 'session'];

const REFUSED: Record<string, string> = {
  api_key: 'An API key cannot manage an account: sign in as the person',
  oauth: 'An OAuth access token cannot manage the account that granted it: sign in as the person',
};

/** Guard: the request is authenticated as a person by a first-party credential (see SELF_METHODS). */
export function requireSelf(authenticate: Authenticate): Middleware {
  return async (ctx, next) => {
    const p = await authenticate(ctx);
    if (!p || p.kind === 'registration') throw new InvalidTokenError('Authentication is required');
    if (p.kind === 'api_key' || p.method === 'api_key') throw new ForbiddenError(REFUSED['api_key']);
    if (p.method === 'oauth') throw new ForbiddenError(REFUSED['oauth']);
    if ((p.kind !== 'user' && p.kind !== 'customer') || !SELF_METHODS.includes(p.method))
      throw new ForbiddenError(`A ${p.kind} credential cannot manage an account`);
    return next();
  };
}

/** The account the (self) principal is, while it may still act; a gone or disabled account is a 401. */
export async function selfAccount(accounts: Accounts, p: Principal): Promise<Account> {
  const account = await accounts.active(p.id);
  if (!account || account.actor_type !== p.kind) throw new InvalidTokenError('The account is no longer active');
  return account;
}

/**
 * The opaque ids of the sign-ins this request belongs to, so the list can mark "this device" and
 * "sign out everywhere else" keeps them: a JWT's refresh family or login lineage, a cookie session
 * and the lineage it was started from (ending that lineage would end the session too).
 */
export function currentSignInIds(ctx: Context, signIns: Pick<SignIns, 'idOf'>, p: Principal): Set<string> {
  const ids = new Set<string>();
  if (p.sid) {
    ids.add(signIns.idOf('family', p.sid));
    ids.add(signIns.idOf('lineage', p.sid));
  }
  if (p.method === 'session') {
    const cookie = ctx.cookies.get(SESSION_COOKIE, { signed: true });
    if (cookie) ids.add(signIns.idOf('session', sessionSignInRef(cookie)));
  }
  return ids;
}

/** A sign-in as its owner sees it: the kind in words and whether it is this one. */
export function ownSignIn(view: SignInView, current: Set<string>) {
  return {
    id: view.id,
    kind: view.kind,
    description: KIND_WORDS[view.kind],
    current: current.has(view.id),
    created_at: view.created_at,
    last_used_at: view.last_used_at,
    expires_at: view.expires_at,
    ip: view.ip,
    user_agent: view.user_agent ? { browser: view.user_agent.browser, os: view.user_agent.os, device: view.user_agent.device } : null,
  };
}

const KIND_WORDS: Record<SignInView['kind'], string> = {
  session: 'Browser session',
  lineage: 'Signed in to an app',
  family: 'Signed in to an app (stays signed in)',
  'oauth-session': 'Signed in at the sign-in page (for connected apps)',
};

/** Security events an account owner is shown, with their wording. */
const ACTIVITY: Record<string, string> = {
  'auth.login.succeeded': 'Signed in',
  'auth.logout': 'Signed out',
  'auth.signed_out_everywhere': 'Signed out everywhere',
  'auth.signed_out_others': 'Signed out of every other device',
  'auth.sign_in_ended': 'Ended a sign-in',
  'auth.password_changed': 'Changed the password',
  'auth.password_reset.completed': 'Reset the password',
  'auth.refresh_token_reused': 'A sign-in was ended because its refresh token was used twice',
  'oauth_grant.given': 'Connected an app',
  'oauth_grant.revoked': 'Removed an app',
  'user.sign_in_ended': 'An administrator ended a sign-in',
  'customer.sign_in_ended': 'An administrator ended a sign-in',
  'user.signed_out': 'An administrator signed the account out everywhere',
  'customer.signed_out': 'An administrator signed the account out everywhere',
  'user.updated': 'Profile changed',
  'customer.updated': 'Profile changed',
};
const ACTIVITY_TYPES = new Set(Object.keys(ACTIVITY));

/** The account's recent security events from the audit trail, newest first (one read of the account's copy of its latest events). */
export async function recentActivity(audit: Pick<Audit, 'recentForAccount'>, accountId: string, limit: number) {
  const events = await audit.recentForAccount(accountId, 100);
  return events
    .filter((e) => ACTIVITY_TYPES.has(e.type))
    .slice(0, limit)
    .map(activityOf);
}

function activityOf(e: AuditEvent) {
  let data: Record<string, unknown> = {};
  try {
    data = JSON.parse(e.data ?? '{}') as Record<string, unknown>;
  } catch {
    // An entry written by a newer release: shown without its details.
  }
  const failed = e.outcome === 'failure';
  return {
    id: e.id,
    type: e.type,
    description: failed ? `${ACTIVITY[e.type] ?? e.type} (failed)` : (ACTIVITY[e.type] ?? e.type),
    time: e.time ?? null,
    outcome: failed ? ('failure' as const) : ('success' as const),
    ip: e.ip || null,
    user_agent: e.user_agent || null,
    client_id: typeof data['client_id'] === 'string' ? data['client_id'] : null,
  };
}
