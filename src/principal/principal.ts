import type { Role } from '../config.ts';

/** Every credential, whatever surface it arrives on, becomes one of these: docs/architecture.md, "The Principal". */
export interface Principal {
  /**
   * `registration`: a registration token (an identity with no actor yet). It authenticates no one:
   * every guard refuses it unless it names the kind (POST /store/customers, /auth/token/refresh).
   */
  kind: 'user' | 'customer' | 'api_key' | 'client' | 'registration';
  /** The subject: user, customer or client id; for an API key, its creator. */
  id: string;
  /** Medusa's actor type: who the token speaks for. */
  actorType: 'user' | 'customer' | 'api-key' | 'client';
  scopes: string[];
  method: 'jwt' | 'oauth' | 'api_key' | 'session';
  expiresAt: Date | null;
  role?: Role;
  clientId?: string;
  keyId?: string;
  salesChannelIds?: string[];
  /** Session, refresh family or grant the credential belongs to, and its own id: for logout and revocation. */
  sid?: string;
  jti?: string;
  /**
   * The absolute end of the Medusa sign-in a token or cookie session belongs to: what credentials
   * derived from it may not outlive. Absent on other credentials (/v1 tokens end with their family).
   */
  signInEndsAt?: Date;
  /** Per-key rate limit override (e.g. "100/h"). */
  rateLimit?: string;
}

/** A credential as read off a request, before anyone has looked inside it. */
export type Credential = { scheme: 'bearer'; value: string } | { scheme: 'basic'; value: string } | { scheme: 'session'; value: string };

/**
 * One branch of authenticate(): returns a Principal for credentials it owns, undefined for
 * credentials that are not its kind, and throws InvalidTokenError/TokenExpiredError for
 * credentials of its kind that fail.
 */
export interface CredentialResolver {
  readonly name: string;
  resolve(credential: Credential): Promise<Principal | undefined>;
  /**
   * Credentials of its kind this process has verified before, for the verify fast lane (which
   * iterates the same resolver list as authenticate()). A resolver without it is never answered
   * there: every use takes the general pipeline.
   */
  readonly known?: KnownTokens;
}

/**
 * What a resolver remembers of credentials it verified, so a repeat can be answered with one
 * store round trip: the Principal last seen (no I/O), then a recheck of what can change.
 */
export interface KnownTokens {
  /** The token a credential of this resolver's kind carries (no I/O), or undefined: read once per request. */
  tokenOf(credential: Credential): string | undefined;
  /** The Principal this token stood for when this process last verified it (no I/O), or undefined. */
  principalOf(token: string): Principal | undefined;
  /** Ask the store whether it still holds (one round trip): its Principal now, or null. */
  recheck(token: string, known: Principal): Promise<Principal | null>;
  /** It no longer holds: drop it, so its next use takes the general pipeline. */
  forget(token: string): void;
}
