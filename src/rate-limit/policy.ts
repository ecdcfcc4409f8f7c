/** A quota: `limit` requests per `windowSeconds`, written "N/s|m|h|d" in configuration. */
export interface RatePolicy {
  limit: number;
  windowSeconds: number;
}

export class RatePolicyError extends Error {
  readonly code = 'ERR_RATE_POLICY';
  constructor(value: string) {
    super(`Invalid rate limit "${value}": expected N/s, N/m, N/h or N/d with N a positive integer (e.g. 1000/h)`);
    this.name = 'RatePolicyError';
  }
}

const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;
const POLICY = /^\s*(\d{1,9})\s*\/\s*(\d{0,6})\s*(s|m|h|d|sec|min|hour|day)\s*$/i;
const LONG_UNIT: Record<string, keyof typeof UNIT_SECONDS> = { sec: 's', min: 'm', hour: 'h', day: 'd' };

/** "1000/h", "5/m", "10/30s" (ten per 30 seconds) -> a policy. Throws RatePolicyError. */
export function parseRatePolicy(value: string): RatePolicy {
  const m = POLICY.exec(value);
  if (!m) throw new RatePolicyError(value);
  const limit = Number(m[1]);
  const count = m[2] ? Number(m[2]) : 1;
  const raw = m[3]!.toLowerCase();
  const unit = (LONG_UNIT[raw] ?? raw) as keyof typeof UNIT_SECONDS;
  if (limit < 1 || count < 1) throw new RatePolicyError(value);
  return { limit, windowSeconds: count * UNIT_SECONDS[unit] };
}

/** True when `value` parses: for validating `rate_limit` on API keys and the CLI's --rate-limit. */
export function isRatePolicy(value: string): boolean {
  try {
    parseRatePolicy(value);
    return true;
  } catch {
    return false;
  }
}

/** The IETF RateLimit-Policy form: `1000;w=3600`. */
export function formatPolicyHeader(p: RatePolicy): string {
  return `${p.limit};w=${p.windowSeconds}`;
}

/** Canonical short form, for key names: two spellings of one quota share one counter. */
export function policyId(p: RatePolicy): string {
  return `${p.limit}/${p.windowSeconds}s`;
}
