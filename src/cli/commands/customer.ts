import { UsageError } from '../errors.ts';
import type { Command } from '../registry.ts';
import { parseAccountFlags } from './account-flags.ts';

export const customerCommand: Command = {
  name: 'customer',
  summary: 'create a customer (storefront account)',
  usage: `Usage:
  portcullis customer create --email EMAIL --password PASSWORD [--first-name NAME] [--last-name NAME]

Prints the new customer as JSON (never the password).`,
  async run({ argv, print, services }) {
    const [sub, ...rest] = argv;
    if (sub !== 'create') throw new UsageError(sub ? `unknown customer command "${sub}"` : 'customer: a command is required');
    const flags = parseAccountFlags(rest, false);
    const s = await services();
    const customer = await s.accounts.create({ actorType: 'customer', ...flags });
    print(customer);
    return 0;
  },
};
