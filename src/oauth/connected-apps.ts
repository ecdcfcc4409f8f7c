import type { OAuthClients } from './clients.ts';
import type { GrantView, OAuthGrants } from './grants.ts';
import { describeScope } from './scopes.ts';

/** An OAuth grant as the person who gave it sees it: the app, what it may do in words, when. */
export interface ConnectedApp {
  id: string;
  client: { id: string; name: string; logo_uri: string | null };
  scopes: { name: string; description: string }[];
  granted_at: string | null;
  /** When the app last renewed its access (its last refresh token); null when it never has. */
  last_used_at: string | null;
  expires_at: string | null;
}

/** Only an https logo is shown (no `javascript:`, `data:` or plain-http tracking pixel on the account page). */
function safeLogo(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  try {
    return new URL(value).protocol === 'https:' ? value : null;
  } catch {
    return null;
  }
}

/**
 * The apps an account has connected (its OAuth grants), and withdrawing one: the grant and every
 * token of it end at once, and its JWT access tokens are refused by /v1/auth/verify from the next
 * request on, on every instance (the revocation record is in the shared store). A grant of another
 * account is "not found", never ended.
 */
export function createConnectedApps(deps: { grants: OAuthGrants; clients: Pick<OAuthClients, 'get'> }) {
  const { grants, clients } = deps;

  async function shown(list: GrantView[]): Promise<ConnectedApp[]> {
    const byId = new Map<string, Awaited<ReturnType<OAuthClients['get']>>>();
    for (const id of new Set(list.map((g) => g.client_id))) byId.set(id, await clients.get(id));
    return list.map((g) => {
      const client = byId.get(g.client_id);
      return {
        id: g.id,
        client: {
          id: g.client_id,
          name: client?.client_name ?? g.client_id,
          // Client metadata may carry a logo (validated where clients are registered); checked again here.
          logo_uri: safeLogo((client as { logo_uri?: unknown } | null)?.logo_uri),
        },
        scopes: g.scopes.map((name) => ({ name, description: describeScope(name) })),
        granted_at: g.created_at,
        last_used_at: g.last_refreshed_at,
        expires_at: g.expires_at,
      };
    });
  }

  return {
    /** Every live grant `accountId` gave, newest first. */
    list: async (accountId: string) => shown(await grants.listForAccount(accountId)),
    /** Withdraw the grant `grantId` if `accountId` gave it: the withdrawn grant, or null (none such, or another's). */
    withdraw: (accountId: string, grantId: string): Promise<GrantView | null> =>
      grants.revokeIf(grantId, (g) => g.account_id === accountId),
  };
}
