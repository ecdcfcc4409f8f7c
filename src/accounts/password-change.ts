import { AppError } from '../errors.ts';
import type { LoginThrottle } from '../rate-limit/login-throttle.ts';
import type { Account, Accounts } from './accounts.ts';
import { assertPasswordPolicy } from './password-policy.ts';
import type { SignIns } from './sign-ins.ts';

/** The current password given with a change of password was wrong (not a 401: the caller's credential is fine). */
export class WrongCurrentPasswordError extends AppError {
  constructor() {
    super(400, 'invalid_current_password', 'The current password is not correct');
  }
}

/**
 * A signed-in person changes their own password: the current one is checked first, through the
 * same failed-login throttle as every password login (a stolen session must not become a way to
 * guess the password), then the new one must follow the password policy. The new password is
 * stored only if the old one is still in place (a reset in between wins), and on request every
 * other sign-in of the account ends.
 */
export function createPasswordChange(deps: { accounts: Accounts; throttle: LoginThrottle; signIns: SignIns }) {
  const { accounts, throttle, signIns } = deps;
  return async (input: {
    account: Account;
    ip: string;
    current: string;
    next: string;
    /** Opaque sign-in ids to keep when signing out the others (the caller's own). */
    keep?: ReadonlySet<string>;
    signOutOthers: boolean;
  }): Promise<{ signInsEnded: number }> => {
    const { account } = input;
    // Before the current password is checked: a refused new password costs no attempt.
    assertPasswordPolicy(input.next);
    const stamp = await accounts.passwordStamp(account.id);
    const ok = await throttle.attempt({ ip: input.ip, actorType: account.actor_type, email: account.email }, () =>
      accounts.authenticate(account.actor_type, account.email, input.current),
    );
    if (!ok || ok.id !== account.id || !stamp) throw new WrongCurrentPasswordError();
    // The policy's error names the rule; a concurrent change of password (a reset) makes this one fail.
    if (!(await accounts.replacePassword(account.id, input.next, stamp))) throw new WrongCurrentPasswordError();
    const signInsEnded = input.signOutOthers ? await signIns.endAll(account.id, input.keep ?? new Set()) : 0;
    return { signInsEnded };
  };
}
