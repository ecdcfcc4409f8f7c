import { parseArgs } from 'node:util';
import { GRANT_TYPES, type GrantType } from '../../oauth/clients.ts';
import { oauthClientView } from '../../oauth/client-view.ts';
import type { Services } from '../../services.ts';
import { cliActor } from '../actor.ts';
import { UsageError } from '../errors.ts';
import type { Command } from '../registry.ts';

export const CLIENT_USAGE = `Usage:
  portcullis client create --client-id ID [--client-secret S | --public] --redirect-uri URI [--redirect-uri URI ...]
                           [--grant-types authorization_code,refresh_token,client_credentials] [--scope "read write"]
                           [--name NAME] [--login-actor customer|user] [--post-logout-redirect-uri URI ...]
                           [--logo-uri URL] [--client-uri URL] [--policy-uri URL] [--tos-uri URL]
  portcullis client list
  portcullis client delete ID            (revokes every grant and token of the client)
  portcullis client rotate-secret ID [--client-secret S]

create prints the client as JSON with its secret (generated unless --client-secret is given):
the only time the secret is shown. Defaults: grant types authorization_code,refresh_token; every offered scope;
customers sign in (--login-actor user: back-office users). The logo, home page, privacy policy and terms
(https URLs) are shown on the consent page. list prints {oauth_clients, count}; the grants a client holds:
portcullis grant list --client ID. Each change is recorded in the audit trail with actor {type: cli, id: <OS user>}.`;

const list = (v: string | undefined) => (v === undefined ? undefined : v.split(/[\s,]+/).filter(Boolean));

/** The admin API's events for the same changes, with the CLI as actor (never the secret). */
const audited = (s: Services, type: string, clientId: string) =>
  s.audit.record(type, { actor: cliActor(), subject: { type: 'oauth_client', id: clientId } });

/** `portcullis client ...`: register OAuth clients from the shell. */
export const clientCommand: Command = {
  name: 'client',
  summary: 'Register and manage OAuth 2.0 / OpenID Connect clients',
  usage: CLIENT_USAGE,
  subcommands: ['create', 'list', 'delete', 'rotate-secret'],
  async run(ctx) {
    return runClientCommand(ctx.argv, ctx.services, ctx.print);
  },
};

export async function runClientCommand(
  argv: string[],
  services: () => Promise<Services>,
  print: (value: unknown) => void,
): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'create': {
      const { values } = parseArgs({
        args: rest,
        options: {
          'client-id': { type: 'string' },
          'client-secret': { type: 'string' },
          public: { type: 'boolean', default: false },
          'redirect-uri': { type: 'string', multiple: true },
          'post-logout-redirect-uri': { type: 'string', multiple: true },
          'grant-types': { type: 'string' },
          scope: { type: 'string' },
          name: { type: 'string' },
          'login-actor': { type: 'string' },
          'logo-uri': { type: 'string' },
          'client-uri': { type: 'string' },
          'policy-uri': { type: 'string' },
          'tos-uri': { type: 'string' },
        },
        strict: true,
      });
      if (!values['client-id']) throw new UsageError('--client-id is required');
      if (values.public && values['client-secret'] !== undefined) throw new UsageError('--public and --client-secret exclude each other');
      const grantTypes = list(values['grant-types']);
      const unknown = (grantTypes ?? []).filter((g) => !(GRANT_TYPES as readonly string[]).includes(g));
      if (unknown.length) throw new UsageError(`--grant-types: unknown ${unknown.join(', ')} (known: ${GRANT_TYPES.join(', ')})`);
      const loginActor = values['login-actor'];
      if (loginActor !== undefined && loginActor !== 'customer' && loginActor !== 'user')
        throw new UsageError('--login-actor must be customer or user');
      const s = await services();
      try {
        const { client, secret } = await s.oauthClients.create({
          clientId: values['client-id'],
          clientSecret: values['client-secret'],
          public: values.public,
          name: values.name,
          redirectUris: values['redirect-uri'],
          postLogoutRedirectUris: values['post-logout-redirect-uri'],
          grantTypes: grantTypes as GrantType[] | undefined,
          scopes: list(values.scope),
          loginActor,
          links: {
            logo_uri: values['logo-uri'],
            client_uri: values['client-uri'],
            policy_uri: values['policy-uri'],
            tos_uri: values['tos-uri'],
          },
        });
        await audited(s, 'oauth_client.created', client.client_id);
        print(oauthClientView(client, secret));
        return 0;
      } catch (err) {
        // The registry's validation messages name the flag's field: report them as usage errors.
        if ((err as { status?: number }).status === 400) throw new UsageError((err as Error).message);
        throw err;
      }
    }
    case 'list': {
      const s = await services();
      const { clients, count } = await s.oauthClients.list({ offset: 0, limit: 1000 });
      print({ oauth_clients: clients.map((c) => oauthClientView(c)), count });
      return 0;
    }
    case 'delete': {
      const [id] = rest;
      if (!id) throw new UsageError('client delete ID');
      const s = await services();
      const { client, revokedGrants } = await s.oauthClients.delete(id);
      await audited(s, 'oauth_client.deleted', client.client_id);
      print({ id: client.client_id, object: 'oauth_client', deleted: true, revoked_grants: revokedGrants });
      return 0;
    }
    case 'rotate-secret': {
      const { values, positionals } = parseArgs({
        args: rest,
        options: { 'client-secret': { type: 'string' } },
        allowPositionals: true,
        strict: true,
      });
      if (!positionals[0]) throw new UsageError('client rotate-secret ID');
      const s = await services();
      const { client, secret } = await s.oauthClients.rotateSecret(positionals[0], values['client-secret']);
      await audited(s, 'oauth_client.secret_rotated', client.client_id);
      print(oauthClientView(client, secret));
      return 0;
    }
    default:
      throw new UsageError(sub ? `unknown subcommand "${sub}"` : 'a subcommand is required');
  }
}
