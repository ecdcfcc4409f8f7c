import type { Context } from 'koa';
import { INTERACTION_PATH } from '../../oauth/interactions.ts';

/**
 * What our pages remember about one interaction in the browser, in a short signed cookie scoped to
 * its path: enough to send the user back to the app once oidc-provider has forgotten the interaction
 * (Back after Allow or Deny, a reload after it expired), and the message of the last failed form
 * (post/redirect/get: the POST answers 303 and the GET shows it). Never a password.
 */
export interface InteractionMemo {
  uid: string;
  /** The chain of interactions of one authorization request (oidc-provider's `cid`). */
  cid: string;
  client_id: string;
  redirect_uri?: string;
  state?: string;
  response_mode?: string;
  /** The last failed form: a message key, the email typed, when the throttle lets the next try in. */
  flash?: { error: string; email?: string; retryAt?: number };
  /** "Not you? Switch account": show the sign-in page instead of consent. */
  switching?: true;
}

/** How the authorization request of a chain ended, and its newest interaction (Back lands there). */
export interface ChainMemo {
  uid: string;
  done?: 'allowed' | 'denied';
}

const MEMO = 'pc_ix';
const CHAIN = 'pc_ixc';
/**
 * A little longer than login and consent may take (10 minutes, ttl.ts): long enough for Back after
 * the app's page, short enough that a browser running many sign-ins does not pile up cookies.
 */
const MAX_AGE_MS = 15 * 60 * 1000;

const encode = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
function decode<T>(raw: string | undefined): T | undefined {
  if (!raw) return undefined;
  try {
    return JSON.parse(Buffer.from(raw, 'base64url').toString('utf8')) as T;
  } catch {
    return undefined;
  }
}
const options = (ctx: Context, path: string) => ({
  path,
  signed: true,
  httpOnly: true,
  sameSite: 'lax' as const,
  secure: ctx.secure,
  maxAge: MAX_AGE_MS,
  overwrite: true,
});
const interactionPath = (uid: string) => `${INTERACTION_PATH}/${encodeURIComponent(uid)}`;
/** One chain cookie per authorization request, by its chain id (nanoid: cookie-name safe). */
const chainName = (cid: string) => `${CHAIN}_${cid.replace(/[^A-Za-z0-9_-]/g, '')}`;

export function readMemo(ctx: Context, uid: string): InteractionMemo | undefined {
  const memo = decode<InteractionMemo>(ctx.cookies.get(MEMO, { signed: true }));
  return memo?.uid === uid ? memo : undefined;
}

export function writeMemo(ctx: Context, memo: InteractionMemo): void {
  ctx.cookies.set(MEMO, encode(memo), options(ctx, interactionPath(memo.uid)));
}

export function readChain(ctx: Context, cid: string): ChainMemo | undefined {
  return decode<ChainMemo>(ctx.cookies.get(chainName(cid), { signed: true }));
}

export function writeChain(ctx: Context, cid: string, chain: ChainMemo): void {
  ctx.cookies.set(chainName(cid), encode(chain), options(ctx, INTERACTION_PATH));
}
