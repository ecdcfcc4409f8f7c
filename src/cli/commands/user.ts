import { UsageError } from '../errors.ts';
import type { Command } from '../registry.ts';
import { parseAccountFlags } from './account-flags.ts';
import { runAccountAdminCommand } from './account-admin.ts';

export const userCommand: Command = {
  name: 'user',
  summary: 'create, list, change, disable, sign out and delete back-office users',
  usage: `Usage:
  portcullis user create --email EMAIL --password PASSWORD [--role admin|member|developer] [--first-name NAME] [--last-name NAME]
  portcullis user list [--q TEXT] [--role admin|member|developer] [--disabled true|false]
  portcullis user get ID|EMAIL
  portcullis user set-role ID|EMAIL admin|member|developer
  portcullis user disable ID|EMAIL
  portcullis user enable ID|EMAIL
  portcullis user sign-out ID|EMAIL
  portcullis user delete ID|EMAIL

Prints JSON (never a password); list prints {users, count}. --role defaults to member.
disable ends every sign-in and suspends the user's API keys until enable; delete also revokes them.
The last active admin cannot be demoted, disabled or deleted.`,
  async run({ argv, print, services }) {
    const [sub, ...rest] = argv;
    if (sub === 'create') {
      const flags = parseAccountFlags(rest, true);
      const s = await services();
      const user = await s.accounts.create({ actorType: 'user', ...flags });
      print(user);
      return 0;
    }
    if (sub && (await runAccountAdminCommand('user', sub, rest, services, print))) return 0;
    throw new UsageError(sub ? `unknown user command "${sub}"` : 'user: a command is required');
  },
};
