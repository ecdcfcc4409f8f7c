import type { Audit, AuditEntry } from '../audit/audit.ts';
import { NotFoundError } from '../errors.ts';
import type { OAuthClients } from './clients.ts';
import type { GrantView, OAuthGrants } from './grants.ts';

/** A grant as the admin API and the CLI show it: with its client's name. */
export interface ShownGrant extends Omit<GrantView, 'client_id'> {
  client: { id: string; name: string | null };
}

/** Whose grants to list, or which grant may be withdrawn: an account's, or a client's. */
export type GrantOwner = { accountId: string } | { clientId: string };

const owns = (owner: GrantOwner, g: GrantView) =>
  'accountId' in owner ? g.account_id === owner.accountId : g.client_id === owner.clientId;

/**
 * What an operator does with OAuth grants, from the admin API or the CLI alike: list an account's or
 * a client's live grants, and withdraw one (every token of it ends at once), recorded in the audit
 * trail as `oauth_grant.revoked` with whoever did it.
 */
export function createGrantAdministration(deps: { oauthGrants: OAuthGrants; oauthClients: Pick<OAuthClients, 'get'>; audit: Audit }) {
  const { oauthGrants, oauthClients, audit } = deps;

  async function shown(grants: GrantView[]): Promise<ShownGrant[]> {
    const names = new Map<string, string | null>();
    for (const id of new Set(grants.map((g) => g.client_id))) names.set(id, (await oauthClients.get(id))?.client_name ?? null);
    return grants.map(({ id, client_id, ...g }) => ({ id, client: { id: client_id, name: names.get(client_id) ?? null }, ...g }));
  }

  return {
    async list(owner: GrantOwner): Promise<ShownGrant[]> {
      return shown(await ('accountId' in owner ? oauthGrants.listForAccount(owner.accountId) : oauthGrants.listForClient(owner.clientId)));
    },

    /** Withdraw a grant; `owner` (when given) must hold it, else it is "not found" as an unknown one. */
    async withdraw(
      grantId: string,
      by: { actor: AuditEntry['actor']; request?: AuditEntry['request']; owner?: GrantOwner },
    ): Promise<GrantView> {
      const grant = await oauthGrants.revokeIf(grantId, (g) => !by.owner || owns(by.owner, g));
      if (!grant) throw new NotFoundError('The grant was not found');
      await audit.record('oauth_grant.revoked', {
        actor: by.actor,
        subject: { type: 'oauth_grant', id: grant.id },
        request: by.request,
        data: { client_id: grant.client_id, via: 'admin', ...(grant.account_id ? { account_id: grant.account_id } : {}) },
      });
      return grant;
    },
  };
}
