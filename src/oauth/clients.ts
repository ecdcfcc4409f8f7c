import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { AppError, NotFoundError } from '../errors.ts';
import { keys } from '../store/keys.ts';
import type { Store } from '../store/port.ts';
import type { Revocations } from '../tokens/revocations.ts';
import type { OAuthGrants } from './grants.ts';
import { redirectUriProblem, redirectUriSetProblem } from './redirect-uris.ts';

export const GRANT_TYPES = ['authorization_code', 'refresh_token', 'client_credentials'] as const;
export type GrantType = (typeof GRANT_TYPES)[number];
export type ClientAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none';
/** Who signs in on the login page for this client: shoppers (default) or back-office users. */
export type LoginActor = 'customer' | 'user';

/** A registered client as we store it. The secret is kept only as a keyed hash. */
export interface OAuthClientRecord {
  client_id: string;
  client_name: string | null;
  type: 'confidential' | 'public';
  token_endpoint_auth_method: ClientAuthMethod;
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  grant_types: GrantType[];
  scopes: string[];
  login_actor: LoginActor;
  /** Shown on the consent page (https only); absent on clients registered before they existed. */
  logo_uri?: string | null;
  client_uri?: string | null;
  policy_uri?: string | null;
  tos_uri?: string | null;
  /** HMAC-SHA-256 of the secret under the server pepper; null for public clients. */
  secret_hash: string | null;
  /** Redacted secret for display, e.g. "Xy3***9fz". */
  secret_redacted: string | null;
  /** Revocation lineage of this client's client_credentials tokens (replaced on rotate and delete). */
  lineage: string;
  created_at: string;
  updated_at: string;
}

export interface ClientInput {
  clientId?: string;
  clientSecret?: string;
  public?: boolean;
  name?: string | null;
  redirectUris?: string[];
  postLogoutRedirectUris?: string[];
  grantTypes?: GrantType[];
  scopes?: string[];
  loginActor?: LoginActor;
  authMethod?: Exclude<ClientAuthMethod, 'none'>;
  /** The app's logo, home page, privacy policy and terms, for the consent page; null removes one. */
  links?: Partial<Record<ClientLink, string | null>>;
}

/** Client metadata (RFC 7591) the consent page shows: https URLs only. */
export const CLIENT_LINKS = ['logo_uri', 'client_uri', 'policy_uri', 'tos_uri'] as const;
export type ClientLink = (typeof CLIENT_LINKS)[number];

/** Why a consent-page link is refused (null when fine): an absolute https URL, nothing a browser would run. */
export function clientLinkProblem(name: ClientLink, value: string): string | null {
  if (value.length > 2048) return `${name}: at most 2048 characters`;
  if (!URL.canParse(value)) return `${name}: not a URL`;
  const url = new URL(value);
  if (url.protocol !== 'https:') return `${name}: must be an https URL`;
  if (url.username || url.password) return `${name}: must not carry credentials`;
  return null;
}

export class ClientConflictError extends AppError {
  constructor(clientId: string) {
    super(409, 'duplicate_client', `An OAuth client with id ${clientId} already exists`);
  }
}

export class InvalidClientError extends AppError {
  constructor(message: string) {
    super(400, 'invalid_request', message);
  }
}

export const CLIENT_ID_PATTERN = /^[A-Za-z0-9._~-]{3,128}$/;
const SECRET_MIN_LENGTH = 16;

/** The links given (null or empty: removed); those not given are left out. */
const linksOf = (links: ClientInput['links'] = {}) =>
  Object.fromEntries(CLIENT_LINKS.filter((k) => links[k] !== undefined).map((k) => [k, links[k] || null])) as Partial<
    Record<ClientLink, string | null>
  >;
const redact = (secret: string) => `${secret.slice(0, 4)}***${secret.slice(-3)}`;
const newLineage = () => `cc_${randomBytes(12).toString('base64url')}`;

/**
 * The OAuth client registry (the Admin API and the CLI write it; oidc-provider reads it through
 * its Client adapter). Secrets are shown once, at creation or rotation, and stored as a keyed hash.
 * Deleting a client revokes every grant it holds and its client-credentials tokens.
 */
export function createOAuthClients(deps: {
  store: Store;
  pepper: string;
  offeredScopes: string[];
  grants: OAuthGrants;
  revocations: Revocations;
  production?: boolean;
}) {
  const { store, pepper, offeredScopes, grants, revocations } = deps;
  // Production refuses plain-http redirects off the loopback IPs (redirect-uris.ts).
  const production = deps.production === true;
  const hashSecret = (secret: string) => createHmac('sha256', pepper).update(`oauth-client-secret:${secret}`).digest('base64url');

  function validate(r: OAuthClientRecord): void {
    if (!CLIENT_ID_PATTERN.test(r.client_id)) throw new InvalidClientError('client_id: 3-128 characters of A-Z a-z 0-9 . _ ~ -');
    if (!r.grant_types.length) throw new InvalidClientError('grant_types: at least one grant type');
    if (r.type === 'public' && r.grant_types.includes('client_credentials'))
      throw new InvalidClientError('grant_types: a public client cannot use client_credentials');
    if (r.grant_types.includes('refresh_token') && !r.grant_types.includes('authorization_code')) {
      throw new InvalidClientError('grant_types: refresh_token needs authorization_code');
    }
    if (r.grant_types.includes('authorization_code') && !r.redirect_uris.length)
      throw new InvalidClientError('redirect_uris: at least one for authorization_code');
    const uris = [...r.redirect_uris, ...r.post_logout_redirect_uris];
    for (const uri of uris) {
      const problem = redirectUriProblem(uri, { production });
      if (problem) throw new InvalidClientError(problem);
    }
    const setProblem = redirectUriSetProblem(uris);
    if (setProblem) throw new InvalidClientError(setProblem);
    for (const name of CLIENT_LINKS) {
      const value = r[name];
      const problem = value ? clientLinkProblem(name, value) : null;
      if (problem) throw new InvalidClientError(problem);
    }
    const unknown = r.scopes.filter((s) => !offeredScopes.includes(s));
    if (unknown.length)
      throw new InvalidClientError(`scopes: not offered by this server: ${unknown.join(' ')} (offered: ${offeredScopes.join(' ')})`);
  }

  async function load(clientId: string): Promise<OAuthClientRecord | null> {
    const raw = await store.get(keys.oauthClient(clientId));
    return raw ? (JSON.parse(raw) as OAuthClientRecord) : null;
  }

  async function mustGet(clientId: string): Promise<OAuthClientRecord> {
    const found = await load(clientId);
    if (!found) throw new NotFoundError(`OAuth client with id: ${clientId} was not found`);
    return found;
  }

  function newSecret(given?: string): string {
    if (given !== undefined && given.length < SECRET_MIN_LENGTH)
      throw new InvalidClientError(`client_secret: at least ${SECRET_MIN_LENGTH} characters`);
    return given ?? randomBytes(32).toString('base64url');
  }

  return {
    get: load,
    mustGet,

    async create(input: ClientInput): Promise<{ client: OAuthClientRecord; secret: string | null }> {
      const isPublic = input.public === true;
      if (isPublic && input.clientSecret !== undefined) throw new InvalidClientError('a public client has no secret');
      const secret = isPublic ? null : newSecret(input.clientSecret);
      const now = new Date().toISOString();
      const record: OAuthClientRecord = {
        client_id: input.clientId ?? `client_${randomBytes(10).toString('hex')}`,
        client_name: input.name ?? null,
        type: isPublic ? 'public' : 'confidential',
        token_endpoint_auth_method: isPublic ? 'none' : (input.authMethod ?? 'client_secret_basic'),
        redirect_uris: [...new Set(input.redirectUris ?? [])],
        post_logout_redirect_uris: [...new Set(input.postLogoutRedirectUris ?? [])],
        grant_types: [...new Set<GrantType>(input.grantTypes ?? ['authorization_code', 'refresh_token'])],
        scopes: [...new Set(input.scopes ?? offeredScopes)],
        login_actor: input.loginActor ?? 'customer',
        ...linksOf(input.links),
        secret_hash: secret ? hashSecret(secret) : null,
        secret_redacted: secret ? redact(secret) : null,
        lineage: newLineage(),
        created_at: now,
        updated_at: now,
      };
      validate(record);
      if (!(await store.put(keys.oauthClient(record.client_id), JSON.stringify(record), { ifAbsent: true })))
        throw new ClientConflictError(record.client_id);
      await store.indexAdd(keys.oauthClientIndex(), record.client_id, Date.parse(now));
      return { client: record, secret };
    },

    async list(page: { offset: number; limit: number }): Promise<{ clients: OAuthClientRecord[]; count: number }> {
      const [ids, count] = await Promise.all([store.indexRange(keys.oauthClientIndex(), page), store.indexCount(keys.oauthClientIndex())]);
      const loaded = await Promise.all(ids.map(load));
      return { clients: loaded.filter((c): c is OAuthClientRecord => c !== null), count };
    },

    async update(clientId: string, changes: Omit<ClientInput, 'clientId' | 'clientSecret' | 'public'>): Promise<OAuthClientRecord> {
      const current = await mustGet(clientId);
      const next: OAuthClientRecord = {
        ...current,
        ...(changes.name !== undefined ? { client_name: changes.name } : {}),
        ...(changes.redirectUris ? { redirect_uris: [...new Set(changes.redirectUris)] } : {}),
        ...(changes.postLogoutRedirectUris ? { post_logout_redirect_uris: [...new Set(changes.postLogoutRedirectUris)] } : {}),
        ...(changes.grantTypes ? { grant_types: [...new Set(changes.grantTypes)] } : {}),
        ...(changes.scopes ? { scopes: [...new Set(changes.scopes)] } : {}),
        ...(changes.loginActor ? { login_actor: changes.loginActor } : {}),
        ...(changes.links ? linksOf(changes.links) : {}),
        ...(changes.authMethod && current.type === 'confidential' ? { token_endpoint_auth_method: changes.authMethod } : {}),
        updated_at: new Date().toISOString(),
      };
      validate(next);
      await store.put(keys.oauthClient(clientId), JSON.stringify(next));
      return next;
    },

    /** A new secret (shown once); the old one stops working and so do tokens minted with client_credentials. */
    async rotateSecret(clientId: string, given?: string): Promise<{ client: OAuthClientRecord; secret: string }> {
      const current = await mustGet(clientId);
      if (current.type === 'public') throw new InvalidClientError('a public client has no secret');
      const secret = newSecret(given);
      const next: OAuthClientRecord = {
        ...current,
        secret_hash: hashSecret(secret),
        secret_redacted: redact(secret),
        lineage: newLineage(),
        updated_at: new Date().toISOString(),
      };
      await store.put(keys.oauthClient(clientId), JSON.stringify(next));
      await revocations.revokeGrant(current.lineage);
      return { client: next, secret };
    },

    async delete(clientId: string): Promise<{ client: OAuthClientRecord; revokedGrants: number }> {
      const current = await mustGet(clientId);
      await store.delete(keys.oauthClient(clientId));
      await store.indexRemove(keys.oauthClientIndex(), [clientId]);
      await revocations.revokeGrant(current.lineage);
      const revokedGrants = await grants.revokeAllForClient(clientId);
      return { client: current, revokedGrants };
    },

    /** Constant-time check of a presented secret against the stored keyed hash. */
    verifySecret(secretHash: string | null | undefined, presented: unknown): boolean {
      if (!secretHash || typeof presented !== 'string' || !presented) return false;
      const a = Buffer.from(hashSecret(presented));
      const b = Buffer.from(secretHash);
      return a.length === b.length && timingSafeEqual(a, b);
    },
  };
}
export type OAuthClients = ReturnType<typeof createOAuthClients>;
