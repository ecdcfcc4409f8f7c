/**
 * Tokens whose signature and claims this process has already checked, until they expire: a
 * repeat verification then skips the signature math. Never a substitute for the revocation
 * check, which the caller makes on every use. Bounded: past `limit`, the oldest entry goes.
 * An entry remembers the kid that signed it and holds only while `keyUsable(kid)` says so (an
 * in-memory lookup), so a revoked signing key ends its cached tokens at once, on every instance.
 */
export function createVerifiedCache<T>(opts: { limit?: number; now?: () => number; keyUsable?: (kid: string) => boolean } = {}) {
  const limit = opts.limit ?? 10_000;
  const now = opts.now ?? Date.now;
  const keyUsable = opts.keyUsable ?? (() => true);
  const entries = new Map<string, { value: T; expiresAtMs: number; kid?: string }>();
  return {
    /** The value for a token that has not expired (at `graceMs` past its expiry at most). */
    get(token: string, graceMs = 0): T | undefined {
      const entry = entries.get(token);
      if (!entry) return undefined;
      if (entry.kid !== undefined && !keyUsable(entry.kid)) {
        entries.delete(token);
        return undefined;
      }
      // (An expired entry is left for the size bound to evict: a lookup with more grace may still want it.)
      return entry.expiresAtMs + graceMs > now() ? entry.value : undefined;
    },
    /** `kid`: the key that signed the token (for a signed one). */
    set(token: string, value: T, expiresAtMs: number, kid?: string): void {
      if (entries.size >= limit) entries.delete(entries.keys().next().value as string);
      entries.set(token, { value, expiresAtMs, kid });
    },
    delete(token: string): void {
      entries.delete(token);
    },
  };
}
