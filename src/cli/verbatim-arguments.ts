/**
 * The arguments of a command that takes no options, each taken as written. Ids made by Portcullis
 * and oidc-provider are base64url (a key thumbprint, a grant id), so one in 64 begins with "-":
 * node:util parseArgs would refuse it as an unknown option, which an operator withdrawing a leaked
 * key or a grant must not meet. A leading "--" is still accepted, as other commands expect.
 */
export function verbatimArguments(args: readonly string[]): string[] {
  return args[0] === '--' ? args.slice(1) : [...args];
}
