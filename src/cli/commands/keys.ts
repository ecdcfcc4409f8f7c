import { randomBytes } from 'node:crypto';
import { cliActor } from '../actor.ts';
import { UsageError } from '../errors.ts';
import { verbatimArguments } from '../verbatim-arguments.ts';
import type { Command } from '../registry.ts';

// Recorded as every CLI change is: actor `cli`, the OS user.
const byCli = () => ({ actor: cliActor(), via: 'cli' as const });

export const keysCommand: Command = {
  name: 'keys',
  subcommands: ['list', 'rotate', 'revoke', 'generate-kek', 'rekey'],
  summary: 'list, rotate and revoke the signing keys; generate a KEY_ENCRYPTION_KEY and move the keys under it',
  usage: `Usage:
  portcullis keys list
  portcullis keys rotate
  portcullis keys revoke KID        (taken as written, also when it begins with "-")
  portcullis keys generate-kek
  portcullis keys rekey

list prints every signing key with its state (next, current, previous, retired, revoked) and
timings, public parts only. rotate publishes a new key per algorithm as next: it signs after
SIGNING_KEY_LEAD_TIME. revoke withdraws a key at once (a compromised key): every instance refuses
its tokens within a second, and a revoked current key is replaced at once. Running servers pick up
each change without a restart. generate-kek prints 32 random bytes in base64url for
KEY_ENCRYPTION_KEY (needs no store). rekey encrypts under KEY_ENCRYPTION_KEY every private part still
under KEY_ENCRYPTION_KEY_PREVIOUS and prints their kids (docs/signing-keys.md: replacing the key-encryption key).`,
  async run({ argv, print, services }) {
    const [sub, ...rest] = argv;
    const positionals = verbatimArguments(rest);
    const none = () => {
      if (positionals.length) throw new UsageError(`keys ${sub}: unexpected argument "${positionals[0]}"`);
    };
    switch (sub) {
      case 'list': {
        none();
        const s = await services();
        print({ signing_keys: await s.signingKeys.list(), mode: s.signingKeys.mode });
        return 0;
      }
      case 'rotate': {
        none();
        print({ signing_keys: await (await services()).signingKeys.rotate(byCli()) });
        return 0;
      }
      case 'revoke': {
        if (positionals.length !== 1) throw new UsageError('keys revoke: exactly one KID is required');
        print({ signing_key: await (await services()).signingKeys.revoke(positionals[0]!, byCli()) });
        return 0;
      }
      case 'rekey': {
        none();
        print(await (await services()).signingKeys.rekey(byCli()));
        return 0;
      }
      case 'generate-kek': {
        none();
        print({ KEY_ENCRYPTION_KEY: randomBytes(32).toString('base64url') });
        return 0;
      }
      default:
        throw new UsageError(sub ? `unknown keys command "${sub}"` : 'keys: a command is required');
    }
  },
};
