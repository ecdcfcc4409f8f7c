/** Calls to Portcullis's own API with the session cookie (never a token kept by the page). */

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

let onUnauthorized: () => void = () => {};

/** What to do when any call answers 401: the session ended (signed out elsewhere, disabled, expired). */
export function whenUnauthorized(fn: () => void): void {
  onUnauthorized = fn;
}

/** `signingIn`: a 401 is a wrong password or a dead token, not a session that ended. */
export async function api<T>(
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
  opts: { bearer?: string; signingIn?: boolean } = {},
): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  // The cookie-write guard wants JSON on every write (a cross-site form cannot send it without a preflight).
  if (method !== 'GET') headers['Content-Type'] = 'application/json';
  if (opts.bearer) headers.Authorization = `Bearer ${opts.bearer}`;
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: method === 'POST' ? JSON.stringify(body ?? {}) : undefined,
  });
  const text = await res.text();
  let data: unknown;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const err = (data ?? {}) as { type?: string; message?: string };
    if (res.status === 401 && !opts.signingIn) onUnauthorized();
    throw new ApiError(res.status, err.type ?? 'error', err.message ?? `The server answered ${res.status}`);
  }
  return data as T;
}

export function query(params: Record<string, string | number | boolean | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}

export type Role = 'admin' | 'developer' | 'member';

export interface User {
  id: string;
  email: string;
  first_name: string | null;
  last_name: string | null;
  role: Role;
  disabled: boolean;
  created_at: string;
  updated_at: string;
}
export type Customer = Omit<User, 'role'>;

export interface ApiKey {
  id: string;
  title: string;
  token: string;
  redacted: string;
  type: 'publishable' | 'secret';
  scopes: string[] | null;
  sales_channels: { id: string; name: string }[];
  expires_at: string | null;
  last_used_at: string | null;
  created_by: string;
  created_at: string;
  revoked_at: string | null;
  revoked_by: string | null;
}

export interface SalesChannel {
  id: string;
  name: string;
  description?: string | null;
}

export interface OAuthClient {
  id: string;
  client_id: string;
  name: string | null;
  type: 'confidential' | 'public';
  token_endpoint_auth_method: string;
  redirect_uris: string[];
  grant_types: string[];
  scopes: string[];
  login_actor: 'customer' | 'user';
  client_secret?: string;
  secret_redacted: string | null;
  created_at: string;
}

export interface SignIn {
  id: string;
  kind: 'lineage' | 'family' | 'session' | 'oauth-session';
  created_at: string | null;
  last_used_at: string | null;
  expires_at: string | null;
  ip: string | null;
  user_agent: { raw: string; browser: string | null; os: string | null; device: string | null } | null;
}

export interface Grant {
  id: string;
  client: { id: string; name: string | null };
  account_id: string | null;
  scopes: string[];
  created_at: string | null;
  last_refreshed_at: string | null;
}

export interface AuditEvent {
  id: string;
  time: string;
  type: string;
  outcome: 'success' | 'failure';
  actor: { type: string; id: string; on_behalf_of?: string };
  subject: { type: string; id: string } | null;
  ip: string;
  user_agent: string;
  request_id: string;
  data: Record<string, unknown>;
}

export interface Overview {
  accounts: { users: number; customers: number };
  api_keys: { active: number };
  oauth_clients: number;
  last_24h: { sign_ins: number; failed_logins: number; complete: boolean };
  quota_refusals: { count: number };
  redis: { kind: 'redis' | 'memory'; status: 'up' | 'down'; latency_ms: number | null };
}

export interface SigningKey {
  kid: string;
  alg: 'RS256' | 'ES256' | 'EdDSA';
  state: 'next' | 'current' | 'previous' | 'retired' | 'revoked';
  origin: 'imported' | 'generated' | 'static';
  created_at: string | null;
  activates_at: string | null;
  retires_at: string | null;
  revoked_at: string | null;
}
