import { UsageError } from '../errors.ts';
import type { Command } from '../registry.ts';
import { parseAccountFlags } from './account-flags.ts';
import { runAccountAdminCommand } from './account-admin.ts';

export const customerCommand: Command = {
  name: 'customer',
  summary: 'create, list, sign out and delete customers (storefront accounts)',
  usage: `Usage:
  portcullis customer create --email EMAIL --password PASSWORD [--first-name NAME] [--last-name NAME]
  portcullis customer list [--q TEXT]
  portcullis customer get ID|EMAIL
  portcullis customer sign-out ID|EMAIL
  portcullis customer delete ID|EMAIL

Prints JSON (never a password); list prints {customers, count}.`,
  async run({ argv, print, services }) {
    const [sub, ...rest] = argv;
    if (sub === 'create') {
      const flags = parseAccountFlags(rest, false);
      const s = await services();
      const customer = await s.accounts.create({ actorType: 'customer', ...flags });
      print(customer);
      return 0;
    }
    if (sub && (await runAccountAdminCommand('customer', sub, rest, services, print))) return 0;
    throw new UsageError(sub ? `unknown customer command "${sub}"` : 'customer: a command is required');
  },
};
