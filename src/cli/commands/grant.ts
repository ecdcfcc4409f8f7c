import { parseArgs } from 'node:util';
import type { ActorType } from '../../accounts/accounts.ts';
import type { GrantOwner } from '../../oauth/grant-administration.ts';
import type { Services } from '../../services.ts';
import { cliActor } from '../actor.ts';
import { UsageError } from '../errors.ts';
import { verbatimArguments } from '../verbatim-arguments.ts';
import type { Command } from '../registry.ts';

/** An account named by id or email, of the kind the flag says. */
async function accountId(s: Services, actorType: ActorType, idOrEmail: string): Promise<string> {
  const byEmail = idOrEmail.includes('@') ? await s.accounts.findByEmail(actorType, idOrEmail) : null;
  return (await s.accountAdministration.get(actorType, byEmail?.id ?? idOrEmail)).id;
}

/** `portcullis grant ...`: the OAuth grants accounts gave and clients hold, as the admin API lists and withdraws them. */
export const grantCommand: Command = {
  name: 'grant',
  summary: 'list and withdraw the OAuth grants accounts gave to clients',
  subcommands: ['list', 'revoke'],
  usage: `Usage:
  portcullis grant list --user ID|EMAIL | --customer ID|EMAIL | --client CLIENT_ID
  portcullis grant revoke GRANT_ID      (taken as written, also when it begins with "-")

list prints {grants, count}: each grant's client, account, scopes, when it was given and last refreshed.
revoke withdraws the grant and ends every token of it at once (its access tokens are refused from the
next request); recorded in the audit trail as oauth_grant.revoked with actor {type: cli, id: <OS user>}.`,
  async run({ argv, print, services }) {
    const [sub, ...rest] = argv;
    if (sub === 'list') {
      const { values, positionals } = parseArgs({
        args: rest,
        options: { user: { type: 'string' }, customer: { type: 'string' }, client: { type: 'string' } },
        allowPositionals: true,
        strict: true,
      });
      if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
      const given = (['user', 'customer', 'client'] as const).filter((f) => values[f] !== undefined);
      if (given.length !== 1) throw new UsageError('grant list: exactly one of --user, --customer or --client');
      const s = await services();
      let owner: GrantOwner;
      if (values.client !== undefined) owner = { clientId: (await s.oauthClients.mustGet(values.client)).client_id };
      else if (values.user !== undefined) owner = { accountId: await accountId(s, 'user', values.user) };
      else owner = { accountId: await accountId(s, 'customer', values.customer!) };
      const grants = await s.grantAdministration.list(owner);
      print({ grants, count: grants.length });
      return 0;
    }
    if (sub === 'revoke') {
      const positionals = verbatimArguments(rest);
      if (positionals.length !== 1) throw new UsageError('grant revoke: one GRANT_ID');
      const s = await services();
      const grant = await s.grantAdministration.withdraw(positionals[0]!, { actor: cliActor() });
      print({ id: grant.id, object: 'oauth_grant', deleted: true });
      return 0;
    }
    throw new UsageError(sub ? `unknown grant command "${sub}"` : 'grant: a command is required');
  },
};
