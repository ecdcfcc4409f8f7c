import { parseArgs } from 'node:util';
import { z } from 'zod';
import { passwordPolicyViolation } from '../../accounts/password-policy.ts';
import { UsageError } from '../errors.ts';
import { readPassword } from '../password-input.ts';

const ROLES = ['admin', 'member', 'developer'] as const;

export interface AccountFlags {
  email: string;
  /** Asks for (or reads) the password: called once the store answers, so a broken setup fails before anyone types one. */
  password: () => Promise<string>;
  firstName: string | null;
  lastName: string | null;
  role?: (typeof ROLES)[number];
}

/** The password flags every command that sets a password takes (see password-input.ts). */
export const PASSWORD_OPTIONS = {
  password: { type: 'string' },
  'password-stdin': { type: 'boolean', default: false },
} as const;

/** The password a command sets: asked for or read (password-input.ts), then held to the one password policy. */
export async function newPassword(values: { password?: string; 'password-stdin'?: boolean }): Promise<string> {
  const password = await readPassword({ flag: values.password, fromStdin: values['password-stdin'] === true, confirm: true });
  const weak = passwordPolicyViolation(password);
  if (weak) throw new UsageError(`password: ${weak}`);
  return password;
}

/**
 * `--email [--password-stdin] [--first-name] [--last-name] [--role]` for `user create` and
 * `customer create`. Same rules as the HTTP routes: a valid email, a password the one password
 * policy accepts (password-policy.ts). The flags are checked before the password is asked for.
 */
export function parseAccountFlags(args: string[], withRole: boolean): AccountFlags {
  const { values, positionals } = parseArgs({
    args,
    options: {
      email: { type: 'string' },
      ...PASSWORD_OPTIONS,
      'first-name': { type: 'string' },
      'last-name': { type: 'string' },
      ...(withRole ? { role: { type: 'string' as const } } : {}),
    },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const v = values as unknown as Record<string, string | undefined>;
  if (!v.email) throw new UsageError('--email is required');
  if (!z.email().max(320).safeParse(v.email.trim()).success) throw new UsageError(`--email: "${v.email}" is not a valid email address`);
  let role: AccountFlags['role'];
  if (withRole && v.role !== undefined) {
    if (!(ROLES as readonly string[]).includes(v.role)) throw new UsageError(`--role: one of ${ROLES.join(', ')}`);
    role = v.role as AccountFlags['role'];
  }
  return {
    email: v.email.trim(),
    password: () => newPassword(values as { password?: string; 'password-stdin'?: boolean }),
    firstName: v['first-name'] ?? null,
    lastName: v['last-name'] ?? null,
    ...(withRole ? { role: role ?? 'member' } : {}),
  };
}
