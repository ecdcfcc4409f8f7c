import { UsageError } from '../errors.ts';
import type { Command } from '../registry.ts';
import { parseAccountFlags } from './account-flags.ts';

export const userCommand: Command = {
  name: 'user',
  summary: 'create a back-office user',
  usage: `Usage:
  portcullis user create --email EMAIL --password PASSWORD [--role admin|member|developer] [--first-name NAME] [--last-name NAME]

Prints the new user as JSON (never the password). --role defaults to member.`,
  async run({ argv, print, services }) {
    const [sub, ...rest] = argv;
    if (sub !== 'create') throw new UsageError(sub ? `unknown user command "${sub}"` : 'user: a command is required');
    const flags = parseAccountFlags(rest, true);
    const s = await services();
    const user = await s.accounts.create({ actorType: 'user', ...flags });
    print(user);
    return 0;
  },
};
