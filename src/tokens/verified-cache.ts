/**
 * Tokens whose signature and claims this process has already checked, until they expire: a
 * repeat verification then skips the signature math. Never a substitute for the revocation
 * check, which the caller makes on every use. Bounded: past `limit`, the oldest entry goes.
 */
export function createVerifiedCache<T>(opts: { limit?: number; now?: () => number } = {}) {
  const limit = opts.limit ?? 10_000;
  const now = opts.now ?? Date.now;
  const entries = new Map<string, { value: T; expiresAtMs: number }>();
  return {
    /** The value for a token that has not expired (at `graceMs` past its expiry at most). */
    get(token: string, graceMs = 0): T | undefined {
      const entry = entries.get(token);
      // (An expired entry is left for the size bound to evict: a lookup with more grace may still want it.)
      return entry && entry.expiresAtMs + graceMs > now() ? entry.value : undefined;
    },
    set(token: string, value: T, expiresAtMs: number): void {
      if (entries.size >= limit) entries.delete(entries.keys().next().value as string);
      entries.set(token, { value, expiresAtMs });
    },
    delete(token: string): void {
      entries.delete(token);
    },
  };
}
