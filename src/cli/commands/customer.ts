import { UsageError } from '../errors.ts';
import type { Command } from '../registry.ts';
import { cliActor } from '../actor.ts';
import { parseAccountFlags } from './account-flags.ts';
import { ACCOUNT_ADMIN_COMMANDS, runAccountAdminCommand } from './account-admin.ts';

export const customerCommand: Command = {
  name: 'customer',
  summary: 'create, list, sign out and delete customers (storefront accounts)',
  subcommands: ['create', ...ACCOUNT_ADMIN_COMMANDS.customer],
  usage: `Usage:
  portcullis customer create --email EMAIL [--password-stdin] [--first-name NAME] [--last-name NAME]
  portcullis customer list [--q TEXT]
  portcullis customer get ID|EMAIL
  portcullis customer set-password ID|EMAIL [--password-stdin]
  portcullis customer sign-out ID|EMAIL
  portcullis customer delete ID|EMAIL

The password is asked for on the terminal (echo off, twice), or read from stdin with --password-stdin;
--password PW still works but is unsafe (ps and shell history see it).
Prints JSON (never a password); list prints {customers, count}. set-password ends every sign-in.
Every change is recorded in the audit trail with actor {type: cli, id: <OS user>}.`,
  async run({ argv, print, services }) {
    const [sub, ...rest] = argv;
    if (sub === 'create') {
      const flags = parseAccountFlags(rest, false);
      const s = await services();
      const customer = await s.accounts.create({ actorType: 'customer', ...flags, password: await flags.password() });
      await s.audit.record('customer.created', { actor: cliActor(), subject: { type: 'customer', id: customer.id }, data: { via: 'cli' } });
      print(customer);
      return 0;
    }
    if (sub && (await runAccountAdminCommand('customer', sub, rest, services, print))) return 0;
    throw new UsageError(sub ? `unknown customer command "${sub}"` : 'customer: a command is required');
  },
};
