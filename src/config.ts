import { z } from 'zod';
import type { JSONWebKeySet } from 'jose';
import { availableParallelism } from 'node:os';
import { loadDevSecrets } from './dev-secrets.ts';
import { isRatePolicy } from './rate-limit/policy.ts';
import { ALLOWED_ALGS, createKeystore, type SigningAlg } from './tokens/keystore.ts';
import { developmentKeyEncryptionKey, parseKeyEncryptionKey } from './tokens/key-encryption.ts';
import { parseTrustProxy, type TrustProxy } from './http/trust-proxy.ts';
import { passwordPolicyViolation } from './accounts/password-policy.ts';
import { AA_TEXT_CONTRAST, contrastRatio, parseHexColor } from './branding/contrast.ts';

/**
 * Raised when the environment cannot produce a safe, valid Config. Its message names the variable
 * at fault and what it accepts, on one line (it is printed as is on stderr).
 */
export class ConfigError extends Error {
  readonly code = 'ERR_CONFIG';
  constructor(message: string) {
    super(message.replace(/\s*\n\s*/g, ' '));
    this.name = 'ConfigError';
  }
}

const ROLES = ['admin', 'member', 'developer'] as const;
export type Role = (typeof ROLES)[number];

/** Default scopes of first-party tokens: a user's come from its role, a customer's from "customer". */
type ScopeHolder = Role | 'customer';
const DEFAULT_ROLE_SCOPES: Record<ScopeHolder, string[]> = {
  admin: ['read', 'write', 'admin'],
  developer: ['read', 'write'],
  member: ['read'],
  customer: ['read', 'write'],
};

/** "3600", "30d", "24h", "15m" -> seconds. */
export function parseDuration(value: string): number {
  const m = /^(\d+)\s*(s|m|h|d)?$/.exec(value.trim());
  if (!m) throw new Error('expected seconds or a number with s/m/h/d');
  const n = Number(m[1]);
  const unit = { s: 1, m: 60, h: 3600, d: 86400 }[(m[2] ?? 's') as 's'];
  return n * unit;
}

const duration = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v, ctx) => {
      try {
        const s = parseDuration(v);
        if (s <= 0) throw new Error('must be positive');
        return s;
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: (e as Error).message });
        return z.NEVER;
      }
    });

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v));
const keyEncryptionKeyString = optionalString.refine((v) => {
  if (v === undefined) return true;
  try {
    parseKeyEncryptionKey(v);
    return true;
  } catch {
    return false;
  }
});

const csv = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((v) =>
      v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    );

/** On/off, in the usual spellings (any case); anything else is refused by name, never taken as off. Unset or empty: `unset`. */
const flagDefaulting = (unset: boolean) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      const word = (v ?? '').trim().toLowerCase();
      if (word === '') return unset;
      if (['1', 'true', 'yes', 'on'].includes(word)) return true;
      if (['0', 'false', 'no', 'off'].includes(word)) return false;
      ctx.addIssue({ code: 'custom', message: `got "${v}"` });
      return z.NEVER;
    });
const flag = flagDefaulting(false);

/** A CORS list entry: `*`, an origin (scheme://host[:port]) or a `/regular expression/flags` that compiles. */
const corsEntry = (entry: string): boolean => {
  if (entry === '*') return true;
  const pattern = /^\/(.+)\/([dgimsuy]*)$/.exec(entry);
  if (pattern) {
    try {
      new RegExp(pattern[1]!, pattern[2]!.replace(/[gy]/g, ''));
      return true;
    } catch {
      return false;
    }
  }
  try {
    const url = new URL(entry);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === entry.replace(/\/+$/, '');
  } catch {
    return false;
  }
};

/** Comma-separated CORS entries; one that can never match (a typo, a bad pattern) stops the server. */
const corsList = (fallback: string) => csv(fallback).refine((list) => list.every(corsEntry));

const trustProxy = z
  .string()
  .optional()
  .transform((v, ctx) => {
    try {
      return parseTrustProxy(v);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
      return z.NEVER;
    }
  });

/** The environment variables the server reads, each with its check and default. */
export const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  PORT: z.coerce.number().int().min(0).max(65535).default(9000),
  HOST: z.string().default('0.0.0.0'),
  PUBLIC_URL: optionalString.pipe(z.url().optional()),
  TRUST_PROXY: trustProxy,
  REDIS_URL: optionalString.pipe(z.url({ protocol: /^rediss?$/ }).optional()),
  REDIS_CLUSTER: flag,
  REDIS_COMMAND_TIMEOUT_MS: z.coerce.number().int().min(50).max(60_000).default(3000),
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]*$/, 'letters, digits and _ . : - only')
    .default('pc:'),
  JWKS: optionalString,
  JWKS_FILE: optionalString,
  COOKIE_SECRET: optionalString.pipe(z.string().min(32, 'at least 32 characters').optional()),
  API_KEY_PEPPER: optionalString.pipe(z.string().min(32, 'at least 32 characters').optional()),
  ACCESS_TOKEN_TTL: duration('3600'),
  REFRESH_TOKEN_TTL: duration('30d'),
  ADMIN_TOKEN_TTL: duration('24h'),
  CUSTOMER_TOKEN_TTL: duration('24h'),
  REFRESH_REUSE_GRACE: z.coerce.number().int().min(0).max(300).default(0),
  JWT_AUDIENCE: optionalString,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  BOOTSTRAP_ADMIN_EMAIL: optionalString.pipe(z.email().optional()),
  BOOTSTRAP_ADMIN_PASSWORD: optionalString,
  METRICS_TOKEN: optionalString.pipe(z.string().min(16, 'at least 16 characters').optional()),
  ROLE_SCOPES: optionalString,
  DEV_SECRETS_FILE: z.string().default('.portcullis/dev-secrets.json'),
  BODY_LIMIT: z.coerce
    .number()
    .int()
    .min(1024)
    .default(100 * 1024),
  ADMIN_CORS: corsList('http://localhost:7000,http://localhost:7001,http://localhost:5173'),
  STORE_CORS: corsList('http://localhost:8000'),
  AUTH_CORS: optionalString.refine(
    (v) =>
      v === undefined ||
      v
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean)
        .every(corsEntry),
  ),
  OAUTH_SCOPES: csv('openid,profile,email,offline_access,read,write'),
  OAUTH_ACCESS_TOKEN_TTL: duration('3600'),
  OAUTH_RESOURCE_AUDIENCE: optionalString,
  RATE_LIMIT_API_KEY: z.string().default('1000/h').refine(isRatePolicy),
  RATE_LIMIT_OAUTH: z.string().default('5000/h').refine(isRatePolicy),
  RATE_LIMIT_JWT: z.string().default('2000/h').refine(isRatePolicy),
  RATE_LIMIT_OAUTH_AUTHORIZE: z.string().default('60/m').refine(isRatePolicy),
  NOTIFY_WEBHOOK_URL: optionalString.pipe(z.url({ protocol: /^https?$/ }).optional()),
  AUDIT_RETENTION: duration('90d'),
  // Sign-in, sign-up and reset pages: the service's name and look, self sign-up, the emailed reset link.
  SERVICE_NAME: z.string().trim().min(1).max(80).default('Portcullis'),
  BRAND_LOGO_URL: optionalString.refine((v) => v === undefined || isLogoUrl(v)),
  BRAND_PRIMARY_COLOR: optionalString.refine((v) => v === undefined || /^#[0-9a-fA-F]{6}$/.test(v)),
  // Unset or empty: on (as Medusa's store allows registration).
  CUSTOMER_SIGNUP: flagDefaulting(true),
  RESET_URL_TEMPLATE: optionalString.refine((v) => v === undefined || (v.includes('{token}') && URL.canParse(v.replace('{token}', 't')))),
  // How long a login may wait for a password-hashing thread before it is refused (503 + Retry-After).
  LOGIN_QUEUE_TIMEOUT: duration('10s'),
  // How far below the event loop's CPU priority the hashing threads run (nice increment; 19: the lowest).
  PASSWORD_HASH_NICE: z.coerce.number().int().min(0).max(19).default(19),
  // Server processes sharing the port (src/workers.ts): a number, or `auto` for one per core.
  WORKERS: z.union([z.literal('auto'), z.coerce.number().int().min(1).max(256)]).default(1),
  // Signing keys: kept in the store (rotation, revocation) or only in JWKS/JWKS_FILE (static).
  SIGNING_KEYS: z.enum(['store', 'static']).default('store'),
  KEY_ENCRYPTION_KEY: keyEncryptionKeyString,
  // The key-encryption key being replaced: read from, never written with (portcullis keys rekey).
  KEY_ENCRYPTION_KEY_PREVIOUS: keyEncryptionKeyString,
  SIGNING_KEY_ALGORITHMS: csv('RS256,ES256').refine(
    (list) =>
      list.includes('RS256') && list.every((a) => (ALLOWED_ALGS as readonly string[]).includes(a)) && new Set(list).size === list.length,
  ),
  SIGNING_KEY_ROTATION: z
    .string()
    .default('off')
    .transform((v, ctx) => {
      if (['', 'off', '0'].includes(v.trim().toLowerCase())) return undefined;
      try {
        return parseDuration(v) || undefined;
      } catch (e) {
        ctx.addIssue({ code: 'custom', message: (e as Error).message });
        return z.NEVER;
      }
    }),
  SIGNING_KEY_LEAD_TIME: duration('1h'),
  JWKS_MAX_AGE: z.coerce.number().int().min(0).max(86_400).default(300),
});

const DURATION = 'a positive duration: seconds (3600) or a number with s, m, h or d (15m, 24h, 30d)';
const SECRET = 'at least 32 characters (openssl rand -base64 48)';
const RATE = 'N/s, N/m, N/h or N/d with N a positive whole number, e.g. 1000/h';
const CORS = 'comma-separated origins (https://shop.example.com), /regular expressions/ or *';

/**
 * What each variable accepts, in the words of its one-line error (whatever check failed: zod's
 * own wording, "expected number, received NaN", is for developers).
 */
const ACCEPTS: Partial<Record<keyof typeof envSchema.shape, string>> = {
  NODE_ENV: 'development, production or test',
  PORT: 'a port number, a whole number from 0 to 65535',
  PUBLIC_URL: 'an http(s) URL without query or fragment, e.g. https://auth.example.com',
  REDIS_URL: 'a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379',
  REDIS_COMMAND_TIMEOUT_MS: 'milliseconds, a whole number from 50 to 60000',
  REDIS_CLUSTER: '1/true/yes/on or 0/false/no/off',
  REDIS_PREFIX: 'letters, digits and _ . : - only, e.g. pc:',
  COOKIE_SECRET: SECRET,
  API_KEY_PEPPER: SECRET,
  ACCESS_TOKEN_TTL: DURATION,
  REFRESH_TOKEN_TTL: DURATION,
  ADMIN_TOKEN_TTL: DURATION,
  CUSTOMER_TOKEN_TTL: DURATION,
  OAUTH_ACCESS_TOKEN_TTL: DURATION,
  REFRESH_REUSE_GRACE: 'seconds, a whole number from 0 to 300',
  LOG_LEVEL: 'fatal, error, warn, info, debug, trace or silent',
  BOOTSTRAP_ADMIN_EMAIL: 'an email address',
  METRICS_TOKEN: 'at least 16 characters',
  BODY_LIMIT: 'a number of bytes, a whole number of at least 1024',
  RATE_LIMIT_API_KEY: RATE,
  RATE_LIMIT_OAUTH: RATE,
  RATE_LIMIT_JWT: RATE,
  RATE_LIMIT_OAUTH_AUTHORIZE: RATE,
  NOTIFY_WEBHOOK_URL: 'an http(s) URL',
  AUDIT_RETENTION: DURATION,
  ADMIN_CORS: CORS,
  STORE_CORS: CORS,
  AUTH_CORS: CORS,
  SERVICE_NAME: '1 to 80 characters',
  BRAND_LOGO_URL: 'an https URL or a path on this server (/logo.svg)',
  BRAND_PRIMARY_COLOR: 'a colour as #rrggbb',
  CUSTOMER_SIGNUP: 'on or off',
  RESET_URL_TEMPLATE: 'a URL containing {token}, e.g. https://shop.example.com/reset?token={token}',
  WORKERS: 'a whole number from 1 to 256, or auto (one per core)',
  LOGIN_QUEUE_TIMEOUT: DURATION,
  PASSWORD_HASH_NICE: 'a whole number from 0 (the same priority as request handling) to 19 (the lowest)',
  SIGNING_KEYS: 'store or static',
  KEY_ENCRYPTION_KEY: '32 random bytes as 64 hex digits or 43 base64url characters (portcullis keys generate-kek, or openssl rand -hex 32)',
  KEY_ENCRYPTION_KEY_PREVIOUS: 'the KEY_ENCRYPTION_KEY being replaced, in the same format',
  SIGNING_KEY_ALGORITHMS: 'a comma-separated list of RS256, ES256 and EdDSA that includes RS256',
  SIGNING_KEY_ROTATION: `off, or ${DURATION}`,
  SIGNING_KEY_LEAD_TIME: DURATION,
  JWKS_MAX_AGE: 'seconds, a whole number from 0 to 86400',
};

export interface Config {
  env: 'development' | 'production' | 'test';
  port: number;
  host: string;
  publicUrl: string;
  /** The `iss` of every token; PUBLIC_URL without a trailing slash. */
  issuer: string;
  /** The `aud` of first-party JWTs. */
  audience: string;
  /** Which proxies in front of us may set X-Forwarded-For/-Proto/-Host (TRUST_PROXY). */
  trustProxy: TrustProxy;
  /** Cookies are Secure: in production, or when PUBLIC_URL is https. */
  secureCookies: boolean;
  redisUrl?: string;
  redisPrefix: string;
  /** REDIS_URL names one node of a Redis Cluster. */
  redisCluster: boolean;
  /** A Redis command not answered in this time fails as unavailable (503) instead of hanging. */
  redisCommandTimeoutMs: number;
  /** JWKS/JWKS_FILE (or the development keys); `{keys: []}` when none is given (store mode in production). */
  jwks: JSONWebKeySet;
  cookieSecret: string;
  apiKeyPepper: string;
  ttl: { access: number; refresh: number; admin: number; customer: number; oauthAccess: number };
  refreshReuseGrace: number;
  logLevel: string;
  bootstrapAdmin?: { email: string; password: string };
  /** When set, GET /metrics requires `Authorization: Bearer <this>`. */
  metricsToken?: string;
  roleScopes: Record<ScopeHolder, string[]>;
  bodyLimit: number;
  cors: { admin: string[]; store: string[]; auth: string[] };
  oauth: { scopes: string[]; resourceAudience: string };
  /** `oauthAuthorize`: anonymous /oauth/authorize, /oauth/par and /oauth/end-session requests per client address. */
  rateLimits: { apiKey: string; oauth: string; jwt: string; oauthAuthorize: string };
  notifyWebhookUrl?: string;
  /** Seconds an audit event is kept in the `events:audit` stream. */
  auditRetention: number;
  /** Where development secrets were generated, if any were. */
  devSecretsFile?: string;
  /** Name, logo and button colour of every page (the primary colour passes 4.5:1 against white text). */
  branding: { serviceName: string; logoUrl?: string; primaryColor?: string };
  /** Customers may create an account on the OAuth sign-in page. */
  customerSignup: boolean;
  /** The emailed password-reset link, `{token}` replaced by the token. */
  resetUrlTemplate: string;
  /** Server processes sharing the port (1: this process serves, no supervisor). */
  workers: number;
  /** Seconds a login may wait for a password-hashing thread before 503 + Retry-After. */
  loginQueueTimeout: number;
  /** The password-hashing threads' nice increment over the event loop (0-19). */
  passwordHashNice: number;
  /**
   * Signing keys (docs/signing-keys.md). `store`: kept in the store, encrypted under
   * `keyEncryptionKey`, rotated and revoked without a restart; `jwks` (when given) is imported at
   * the first start. `static`: `jwks` as it is. Durations in seconds.
   */
  signingKeys: {
    mode: 'store' | 'static';
    keyEncryptionKey: Uint8Array;
    /** The key-encryption key being replaced: private parts still under it are read, never written. */
    previousKeyEncryptionKey?: Uint8Array;
    algorithms: SigningAlg[];
    rotation?: number;
    leadTime: number;
  };
  /** Cache-Control max-age of the JWKS responses (seconds). */
  jwksMaxAge: number;
}

/** One clause per variable at fault, saying what it accepts: "PORT: expected ...; LOG_LEVEL: expected ...". */
function formatIssues(error: z.ZodError): string {
  const clauses = error.issues.map((i) => {
    const name = String(i.path[0] ?? '(env)');
    const accepts = ACCEPTS[name as keyof typeof ACCEPTS];
    return `${name}: ${accepts ? `expected ${accepts}` : i.message}`;
  });
  return [...new Set(clauses)].join('; ');
}

function parseJwks(raw: string, source: string): JSONWebKeySet {
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConfigError(`${source}: not valid JSON (expected a private JWKS, {"keys": [...]})`);
  }
  const keys = (parsed as { keys?: unknown }).keys;
  if (!Array.isArray(keys) || keys.length === 0) throw new ConfigError(`${source}: expected {"keys": [...]} with at least one key`);
  for (const k of keys) {
    if (!k || typeof k !== 'object' || !('d' in k) || !('kid' in k)) {
      throw new ConfigError(`${source}: every key needs a "kid" and its private part ("d")`);
    }
  }
  return parsed as JSONWebKeySet;
}

function parseRoleScopes(raw: string | undefined): Record<ScopeHolder, string[]> {
  if (!raw) return DEFAULT_ROLE_SCOPES;
  // admin=read write admin;developer=read write;member=read;customer=read write
  const out = { ...DEFAULT_ROLE_SCOPES };
  for (const part of raw.split(';').filter(Boolean)) {
    const [role, scopes] = part.split('=');
    if (![...ROLES, 'customer'].includes(role?.trim() as Role) || scopes === undefined) {
      throw new ConfigError(
        `ROLE_SCOPES: expected "role=scope scope;role=scope" with roles admin, developer, member or customer, got "${part}"`,
      );
    }
    out[role.trim() as ScopeHolder] = scopes.trim().split(/\s+/).filter(Boolean);
  }
  return out;
}

/** The keys import and include the RS256 key OIDC needs: found now, not by the server after it has started logging. */
async function checkKeys(jwks: JSONWebKeySet, source: string): Promise<void> {
  try {
    await createKeystore(jwks);
  } catch (err) {
    throw new ConfigError(
      `${source}: ${(err as Error).message} (expected private RSA (RS256), EC P-256 (ES256) and Ed25519 (EdDSA) keys, an RS256 one required)`,
    );
  }
}

/** https, or http on the loopback host (browsers treat localhost as a secure context, and keep Secure cookies there). */
export function isSecureOrigin(url: string): boolean {
  const u = new URL(url);
  return u.protocol === 'https:' || ['localhost', '127.0.0.1', '[::1]'].includes(u.hostname);
}

/**
 * Environment -> validated Config. Outside production, missing keys and secrets come from
 * (or are generated into) a git-ignored file shared by the server and the CLI.
 */
export async function loadConfig(env: NodeJS.ProcessEnv = process.env): Promise<Config> {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) throw new ConfigError(formatIssues(parsed.error));
  const e = parsed.data;
  // The issuer of every token: oidc-provider refuses any other scheme, and a query or fragment.
  if (e.PUBLIC_URL && (!/^https?:$/.test(new URL(e.PUBLIC_URL).protocol) || /[?#]/.test(e.PUBLIC_URL)))
    throw new ConfigError(`PUBLIC_URL: expected ${ACCEPTS.PUBLIC_URL}`);
  const production = e.NODE_ENV === 'production';

  if (production) {
    const missing: string[] = [];
    if (e.SIGNING_KEYS === 'static' && !e.JWKS && !e.JWKS_FILE) missing.push('JWKS or JWKS_FILE (SIGNING_KEYS=static)');
    if (e.SIGNING_KEYS === 'store' && !e.KEY_ENCRYPTION_KEY)
      missing.push('KEY_ENCRYPTION_KEY (or SIGNING_KEYS=static with JWKS or JWKS_FILE)');
    if (!e.COOKIE_SECRET) missing.push('COOKIE_SECRET');
    if (!e.API_KEY_PEPPER) missing.push('API_KEY_PEPPER');
    if (!e.REDIS_URL) missing.push('REDIS_URL (the embedded store is for development only)');
    if (missing.length) throw new ConfigError(`NODE_ENV=production refuses to start without ${missing.join(', ')}`);
    for (const [name, list] of [
      ['ADMIN_CORS', e.ADMIN_CORS],
      ['STORE_CORS', e.STORE_CORS],
      ['AUTH_CORS', e.AUTH_CORS?.split(',') ?? []],
    ] as const) {
      if (list.some((o) => o.trim() === '*')) throw new ConfigError(`${name}: "*" is refused in production; list the allowed origins`);
    }
  }
  const workers = e.WORKERS === 'auto' ? availableParallelism() : e.WORKERS;
  // Each process would have its own embedded store: a token revoked in one would live on in the others.
  if (workers > 1 && !e.REDIS_URL)
    throw new ConfigError('WORKERS: more than one worker needs REDIS_URL (the embedded store lives in one process)');
  if (e.BOOTSTRAP_ADMIN_EMAIL && !e.BOOTSTRAP_ADMIN_PASSWORD) {
    throw new ConfigError('BOOTSTRAP_ADMIN_PASSWORD: required when BOOTSTRAP_ADMIN_EMAIL is set');
  }
  const weakBootstrapPassword = e.BOOTSTRAP_ADMIN_PASSWORD && passwordPolicyViolation(e.BOOTSTRAP_ADMIN_PASSWORD);
  if (weakBootstrapPassword) throw new ConfigError(`BOOTSTRAP_ADMIN_PASSWORD: ${weakBootstrapPassword}`);

  let jwks: JSONWebKeySet | undefined;
  if (e.JWKS) jwks = parseJwks(e.JWKS, 'JWKS');
  else if (e.JWKS_FILE) {
    const { readFile } = await import('node:fs/promises');
    let raw: string;
    try {
      raw = await readFile(e.JWKS_FILE, 'utf8');
    } catch (err) {
      throw new ConfigError(`JWKS_FILE: cannot read ${e.JWKS_FILE} (${(err as NodeJS.ErrnoException).code})`);
    }
    jwks = parseJwks(raw, 'JWKS_FILE');
  }
  if (jwks) await checkKeys(jwks, e.JWKS ? 'JWKS' : 'JWKS_FILE');

  let cookieSecret = e.COOKIE_SECRET;
  let apiKeyPepper = e.API_KEY_PEPPER;
  let devSecretsFile: string | undefined;
  // In production the store generates its first keys when no JWKS is given; elsewhere the
  // development keys are imported, so the server and the CLI agree on them.
  if ((!jwks && !production) || !cookieSecret || !apiKeyPepper) {
    const dev = await loadDevSecrets(e.DEV_SECRETS_FILE).catch((err: NodeJS.ErrnoException) => {
      throw new ConfigError(
        `DEV_SECRETS_FILE: cannot use ${e.DEV_SECRETS_FILE} (${err.code ?? err.message}); expected a readable, writable path (or set JWKS, COOKIE_SECRET and API_KEY_PEPPER)`,
      );
    });
    jwks ??= dev.jwks;
    cookieSecret ??= dev.cookieSecret;
    apiKeyPepper ??= dev.apiKeyPepper;
    devSecretsFile = e.DEV_SECRETS_FILE;
  }

  if (e.KEY_ENCRYPTION_KEY_PREVIOUS && !e.KEY_ENCRYPTION_KEY)
    throw new ConfigError('KEY_ENCRYPTION_KEY_PREVIOUS: expected KEY_ENCRYPTION_KEY too (the key that replaces it)');
  if (
    e.KEY_ENCRYPTION_KEY_PREVIOUS &&
    Buffer.from(parseKeyEncryptionKey(e.KEY_ENCRYPTION_KEY_PREVIOUS)).equals(Buffer.from(parseKeyEncryptionKey(e.KEY_ENCRYPTION_KEY!)))
  )
    throw new ConfigError('KEY_ENCRYPTION_KEY_PREVIOUS: expected a key other than KEY_ENCRYPTION_KEY');
  if (e.SIGNING_KEY_LEAD_TIME < e.JWKS_MAX_AGE)
    throw new ConfigError(
      `SIGNING_KEY_LEAD_TIME: expected at least JWKS_MAX_AGE (${e.JWKS_MAX_AGE} s), so a verifier's cached JWKS already holds a key before it signs`,
    );

  const issuer = (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  return {
    env: e.NODE_ENV,
    port: e.PORT,
    host: e.HOST,
    publicUrl: issuer,
    issuer,
    audience: e.JWT_AUDIENCE ?? issuer,
    trustProxy: e.TRUST_PROXY,
    secureCookies: production || new URL(issuer).protocol === 'https:',
    redisUrl: e.REDIS_URL,
    redisPrefix: e.REDIS_PREFIX,
    redisCommandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS,
    redisCluster: e.REDIS_CLUSTER,
    jwks: jwks ?? { keys: [] },
    cookieSecret: cookieSecret!,
    apiKeyPepper: apiKeyPepper!,
    ttl: {
      access: e.ACCESS_TOKEN_TTL,
      refresh: e.REFRESH_TOKEN_TTL,
      admin: e.ADMIN_TOKEN_TTL,
      customer: e.CUSTOMER_TOKEN_TTL,
      oauthAccess: e.OAUTH_ACCESS_TOKEN_TTL,
    },
    refreshReuseGrace: e.REFRESH_REUSE_GRACE,
    logLevel: e.LOG_LEVEL,
    metricsToken: e.METRICS_TOKEN,
    bootstrapAdmin: e.BOOTSTRAP_ADMIN_EMAIL ? { email: e.BOOTSTRAP_ADMIN_EMAIL, password: e.BOOTSTRAP_ADMIN_PASSWORD! } : undefined,
    roleScopes: parseRoleScopes(e.ROLE_SCOPES),
    bodyLimit: e.BODY_LIMIT,
    cors: {
      admin: e.ADMIN_CORS,
      store: e.STORE_CORS,
      auth: e.AUTH_CORS
        ? e.AUTH_CORS.split(',')
            .map((s) => s.trim())
            .filter(Boolean)
        : e.ADMIN_CORS,
    },
    oauth: { scopes: e.OAUTH_SCOPES, resourceAudience: e.OAUTH_RESOURCE_AUDIENCE ?? issuer },
    rateLimits: {
      apiKey: e.RATE_LIMIT_API_KEY,
      oauth: e.RATE_LIMIT_OAUTH,
      jwt: e.RATE_LIMIT_JWT,
      oauthAuthorize: e.RATE_LIMIT_OAUTH_AUTHORIZE,
    },
    notifyWebhookUrl: e.NOTIFY_WEBHOOK_URL,
    auditRetention: e.AUDIT_RETENTION,
    devSecretsFile,
    branding: { serviceName: e.SERVICE_NAME, logoUrl: e.BRAND_LOGO_URL, primaryColor: checkedPrimaryColor(e.BRAND_PRIMARY_COLOR) },
    customerSignup: e.CUSTOMER_SIGNUP,
    resetUrlTemplate: e.RESET_URL_TEMPLATE ?? `${issuer}/account/reset?token={token}`,
    workers,
    loginQueueTimeout: e.LOGIN_QUEUE_TIMEOUT,
    passwordHashNice: e.PASSWORD_HASH_NICE,
    signingKeys: {
      mode: e.SIGNING_KEYS,
      keyEncryptionKey: e.KEY_ENCRYPTION_KEY ? parseKeyEncryptionKey(e.KEY_ENCRYPTION_KEY) : developmentKeyEncryptionKey(cookieSecret!),
      previousKeyEncryptionKey: e.KEY_ENCRYPTION_KEY_PREVIOUS ? parseKeyEncryptionKey(e.KEY_ENCRYPTION_KEY_PREVIOUS) : undefined,
      algorithms: e.SIGNING_KEY_ALGORITHMS as SigningAlg[],
      rotation: e.SIGNING_KEY_ROTATION,
      leadTime: e.SIGNING_KEY_LEAD_TIME,
    },
    jwksMaxAge: e.JWKS_MAX_AGE,
  };
}

/** An https URL, or a path on this server (not `//host`, which a browser reads as another host). */
function isLogoUrl(v: string): boolean {
  if (/^\/(?!\/)[^\s"'<>\\]*$/.test(v)) return true;
  return URL.canParse(v) && new URL(v).protocol === 'https:';
}

/** The button's text is white: a colour it cannot be read on is refused at start. */
function checkedPrimaryColor(color: string | undefined): string | undefined {
  if (color === undefined) return undefined;
  const ratio = contrastRatio(parseHexColor(color)!, [255, 255, 255]);
  if (ratio < AA_TEXT_CONTRAST)
    throw new ConfigError(
      `BRAND_PRIMARY_COLOR: ${color} has a contrast of ${ratio.toFixed(2)}:1 against the buttons' white text; WCAG AA needs ${AA_TEXT_CONTRAST}:1 (choose a darker colour)`,
    );
  return color.toLowerCase();
}

/** The longest lifetime any access token we issue can have: how long a revocation must be remembered. */
export function longestAccessTtl(config: Config): number {
  return Math.max(config.ttl.access, config.ttl.admin, config.ttl.customer, config.ttl.oauthAccess);
}
