import { parseArgs } from 'node:util';
import { parseRateLimit } from '../../api-keys/tokens.ts';
import { apiKeyViews } from '../../api-keys/view.ts';
import type { Services } from '../../services.ts';
import { cliActor } from '../actor.ts';
import { UsageError } from '../errors.ts';
import type { Command } from '../registry.ts';

export const API_KEY_USAGE = `Usage:
  portcullis api-key create --type publishable|secret --title T --created-by EMAIL_OR_ID [--scopes "read write"] [--rate-limit 100/h] [--expires-at ISO]
  portcullis api-key list [--type publishable|secret]
  portcullis api-key revoke ID [--by EMAIL_OR_ID] [--revoke-in SECONDS]

create prints the key as JSON, with its clear token: the only time a secret key's token is shown.
list prints {api_keys, count}: a secret key shows only its redacted form, a publishable key its token.
revoke --by names the user recorded as revoked_by (default: cli). Each change is recorded in the audit
trail with actor {type: cli, id: <OS user>}.`;

async function userOf(s: Services, emailOrId: string) {
  const user = emailOrId.startsWith('user_') ? await s.accounts.get(emailOrId) : await s.accounts.findByEmail('user', emailOrId);
  if (!user || user.actor_type !== 'user') throw new UsageError(`No back-office user "${emailOrId}"`);
  return user;
}

/** `portcullis api-key ...`: manage keys from the shell (the first key of a new install, automation). */
export const apiKeyCommand: Command = {
  name: 'api-key',
  summary: 'Create, list and revoke API keys (publishable pk_ and secret sk_)',
  usage: API_KEY_USAGE,
  subcommands: ['create', 'list', 'revoke'],
  async run(ctx) {
    return runApiKeyCommand(ctx.argv, await ctx.services(), ctx.print);
  },
};

/** The command itself, for callers that hold Services already. Returns the exit code. */
export async function runApiKeyCommand(
  argv: string[],
  s: Services,
  print: (value: unknown) => void = (value) => process.stdout.write(JSON.stringify(value, null, 2) + '\n'),
): Promise<number> {
  const [sub, ...rest] = argv;
  switch (sub) {
    case 'create': {
      const { values } = parseArgs({
        args: rest,
        options: {
          type: { type: 'string', default: 'publishable' },
          title: { type: 'string' },
          'created-by': { type: 'string' },
          scopes: { type: 'string' },
          'rate-limit': { type: 'string' },
          'expires-at': { type: 'string' },
        },
        strict: true,
      });
      const type = values.type;
      if (type !== 'publishable' && type !== 'secret') throw new UsageError('--type must be publishable or secret');
      if (!values.title?.trim()) throw new UsageError('--title is required');
      if (!values['created-by']) throw new UsageError('--created-by is required (the user the key acts for)');
      const creator = await userOf(s, values['created-by']);
      const roleScopes = s.config.roleScopes[creator.role ?? 'member'];
      const scopes = values.scopes === undefined ? roleScopes : values.scopes.split(/[\s,]+/).filter(Boolean);
      if (type === 'publishable' && values.scopes !== undefined) throw new UsageError('--scopes: only secret keys carry scopes');
      const beyond = scopes.filter((sc) => !roleScopes.includes(sc));
      if (beyond.length) throw new UsageError(`--scopes: ${creator.email} (${creator.role}) does not hold ${beyond.join(' ')}`);
      const rateLimit = values['rate-limit'];
      if (rateLimit !== undefined && !parseRateLimit(rateLimit))
        throw new UsageError('--rate-limit: expected "<count>/<s|m|h|d>", e.g. 100/h');
      const expiresAt = values['expires-at'];
      if (expiresAt !== undefined && !(Date.parse(expiresAt) > Date.now()))
        throw new UsageError('--expires-at: expected a future ISO date');
      const { key, token } = await s.apiKeys.create({
        type,
        title: values.title.trim(),
        createdBy: creator.id,
        scopes: type === 'secret' ? scopes : null,
        rateLimit: rateLimit ?? null,
        expiresAt: expiresAt ? new Date(expiresAt).toISOString() : null,
      });
      await s.audit.record('api_key.created', {
        actor: cliActor(),
        subject: { type: 'api_key', id: key.id },
        data: { key_type: type, created_by: creator.id },
      });
      const [view] = await apiKeyViews(s, [key], new Map([[key.id, token]]));
      print(view);
      return 0;
    }
    case 'list': {
      const { values } = parseArgs({ args: rest, options: { type: { type: 'string' } }, strict: true });
      if (values.type !== undefined && values.type !== 'publishable' && values.type !== 'secret')
        throw new UsageError('--type must be publishable or secret');
      const { keys: found } = await s.apiKeys.list({
        types: values.type ? [values.type] : undefined,
        order: { field: 'created_at', desc: true },
        offset: 0,
        limit: 10_000,
      });
      // One list shape for every command ({<things>, count}); a secret key's token is never kept, so
      // it is left out rather than shown empty: its redacted form is what identifies it.
      const api_keys = (await apiKeyViews(s, found)).map(({ token, ...view }) => (token ? { token, ...view } : view));
      print({ api_keys, count: api_keys.length });
      return 0;
    }
    case 'revoke': {
      const { values, positionals } = parseArgs({
        args: rest,
        options: { by: { type: 'string' }, 'revoke-in': { type: 'string' } },
        allowPositionals: true,
        strict: true,
      });
      const id = positionals[0];
      if (!id) throw new UsageError('revoke: the key id (apk_…) is required');
      const by = values.by === undefined ? 'cli' : (await userOf(s, values.by)).id;
      const revokeIn = values['revoke-in'] === undefined ? 0 : Number(values['revoke-in']);
      if (!Number.isInteger(revokeIn) || revokeIn < 0) throw new UsageError('--revoke-in: whole seconds, 0 or more');
      const key = await s.apiKeys.revoke(id, by, revokeIn);
      await s.audit.record('api_key.revoked', {
        actor: cliActor(),
        subject: { type: 'api_key', id: key.id },
        data: { key_type: key.type, revoked_at: key.revoked_at ?? undefined, revoked_by: by },
      });
      print((await apiKeyViews(s, [key]))[0]);
      return 0;
    }
    default:
      throw new UsageError(sub ? `Unknown api-key command "${sub}"` : 'api-key: a command is required');
  }
}
