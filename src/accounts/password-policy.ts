import { readFileSync } from 'node:fs';
import { InvalidRequestError } from '../errors.ts';

export const PASSWORD_MIN_LENGTH = 8;
export const PASSWORD_MAX_LENGTH = 1024;

/** A password refused by the policy; the message names the rule it broke. 400 on every surface. */
export class WeakPasswordError extends InvalidRequestError {
  constructor(message: string) {
    super(message);
  }
}

let common: Set<string> | undefined;
/** The bundled list of the most common passwords, read once on first use. */
function commonPasswords(): Set<string> {
  common ??= new Set(
    readFileSync(new URL('./common-passwords.txt', import.meta.url), 'utf8')
      .split('\n')
      .filter((line) => line && !line.startsWith('#')),
  );
  return common;
}

/** Which rule `password` breaks, in words for the person choosing it; null when it is acceptable. */
export function passwordPolicyViolation(password: string): string | null {
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) return `Password must be at least ${PASSWORD_MIN_LENGTH} characters long`;
  if (length > PASSWORD_MAX_LENGTH) return `Password must be at most ${PASSWORD_MAX_LENGTH} characters long`;
  if (commonPasswords().has(password.toLowerCase())) return 'Password is one of the most commonly used passwords; choose another';
  return null;
}

/**
 * The one password policy, applied wherever a password is set (registration, reset, account
 * creation from the admin API, the CLI and BOOTSTRAP_ADMIN_PASSWORD): 8 to 1,024 characters and
 * not one of the 10,000 most common passwords. Throws WeakPasswordError.
 */
export function assertPasswordPolicy(password: string): void {
  const violation = passwordPolicyViolation(password);
  if (violation) throw new WeakPasswordError(violation);
}
