import { parseArgs } from 'node:util';
import { generateJwks } from '../../tokens/generate-jwks.ts';
import { UsageError } from '../errors.ts';
import type { Command } from '../registry.ts';

export const jwksCommand: Command = {
  name: 'jwks',
  summary: 'generate a private JWKS (RS256 + ES256) for JWKS / JWKS_FILE',
  subcommands: ['generate'],
  usage: `Usage:
  portcullis jwks generate > jwks.json

Prints a private JWKS with one RS256 and one ES256 key. Keep it secret; point JWKS_FILE at it
(or put its content in JWKS). Needs no store.`,
  async run({ argv, print }) {
    const [sub, ...rest] = argv;
    if (sub !== 'generate') throw new UsageError(sub ? `unknown jwks command "${sub}"` : 'jwks: a command is required');
    parseArgs({ args: rest, options: {}, strict: true });
    print(await generateJwks());
    return 0;
  },
};
