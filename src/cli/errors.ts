/**
 * A usage error (bad flags, missing arguments): the CLI prints the message and the command's
 * usage on stderr and exits 2. Any error whose `code` is 'ERR_USAGE' is treated the same way,
 * so command files may define their own.
 */
export class UsageError extends Error {
  readonly code = 'ERR_USAGE';
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function isUsageError(err: unknown): boolean {
  return (
    (err as { code?: unknown } | null)?.code === 'ERR_USAGE' ||
    (err as { code?: unknown } | null)?.code?.toString().startsWith('ERR_PARSE_ARGS') === true
  );
}
