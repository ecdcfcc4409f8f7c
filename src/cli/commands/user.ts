import { UsageError } from '../errors.ts';
import type { Command } from '../registry.ts';
import { cliActor } from '../actor.ts';
import { parseAccountFlags } from './account-flags.ts';
import { ACCOUNT_ADMIN_COMMANDS, runAccountAdminCommand } from './account-admin.ts';

export const userCommand: Command = {
  name: 'user',
  summary: 'create, list, change, disable, sign out and delete back-office users',
  subcommands: ['create', ...ACCOUNT_ADMIN_COMMANDS.user],
  usage: `Usage:
  portcullis user create --email EMAIL [--password-stdin] [--role admin|member|developer] [--first-name NAME] [--last-name NAME]
  portcullis user list [--q TEXT] [--role admin|member|developer] [--disabled true|false]
  portcullis user get ID|EMAIL
  portcullis user set-role ID|EMAIL admin|member|developer
  portcullis user set-password ID|EMAIL [--password-stdin]
  portcullis user disable ID|EMAIL
  portcullis user enable ID|EMAIL
  portcullis user sign-out ID|EMAIL
  portcullis user delete ID|EMAIL

The password is asked for on the terminal (echo off, twice), or read from stdin with --password-stdin
(printf %s "$PW" | portcullis user create --email a@example.com --password-stdin). --password PW still
works but is unsafe: ps and shell history see it.
Prints JSON (never a password); list prints {users, count}. --role defaults to member.
set-password ends every sign-in of the user. disable ends every sign-in and suspends the user's API keys
until enable; delete also revokes them. The last active admin cannot be demoted, disabled or deleted.
Every change is recorded in the audit trail with actor {type: cli, id: <OS user>}.`,
  async run({ argv, print, services }) {
    const [sub, ...rest] = argv;
    if (sub === 'create') {
      const flags = parseAccountFlags(rest, true);
      const s = await services();
      const user = await s.accounts.create({ actorType: 'user', ...flags, password: await flags.password() });
      await s.audit.record('user.created', {
        actor: cliActor(),
        subject: { type: 'user', id: user.id },
        data: { role: user.role ?? 'member', via: 'cli' },
      });
      print(user);
      return 0;
    }
    if (sub && (await runAccountAdminCommand('user', sub, rest, services, print))) return 0;
    throw new UsageError(sub ? `unknown user command "${sub}"` : 'user: a command is required');
  },
};
