import { parseArgs } from 'node:util';
import { z } from 'zod';
import { passwordPolicyViolation } from '../../accounts/password-policy.ts';
import { UsageError } from '../errors.ts';

const ROLES = ['admin', 'member', 'developer'] as const;

export interface AccountFlags {
  email: string;
  password: string;
  firstName: string | null;
  lastName: string | null;
  role?: (typeof ROLES)[number];
}

/**
 * `--email --password [--first-name] [--last-name] [--role]` for `user create` and
 * `customer create`. Same rules as the HTTP routes: a valid email, a password the one password
 * policy accepts (password-policy.ts).
 */
export function parseAccountFlags(args: string[], withRole: boolean): AccountFlags {
  const { values, positionals } = parseArgs({
    args,
    options: {
      email: { type: 'string' },
      password: { type: 'string' },
      'first-name': { type: 'string' },
      'last-name': { type: 'string' },
      ...(withRole ? { role: { type: 'string' as const } } : {}),
    },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  const v = values as Record<string, string | undefined>;
  if (!v.email) throw new UsageError('--email is required');
  if (!z.email().max(320).safeParse(v.email.trim()).success) throw new UsageError(`--email: "${v.email}" is not a valid email address`);
  if (v.password === undefined) throw new UsageError('--password is required');
  const weak = passwordPolicyViolation(v.password);
  if (weak) throw new UsageError(`--password: ${weak}`);
  let role: AccountFlags['role'];
  if (withRole && v.role !== undefined) {
    if (!(ROLES as readonly string[]).includes(v.role)) throw new UsageError(`--role: one of ${ROLES.join(', ')}`);
    role = v.role as AccountFlags['role'];
  }
  return {
    email: v.email.trim(),
    password: v.password,
    firstName: v['first-name'] ?? null,
    lastName: v['last-name'] ?? null,
    ...(withRole ? { role: role ?? 'member' } : {}),
  };
}
