import { z } from 'zod';
import { GRANT_TYPES, type OAuthClientRecord } from './clients.ts';

/** An OAuth client as the Admin API and the CLI show it (never the secret's hash). */
export const oauthClientSchema = z
  .object({
    id: z.string(),
    client_id: z.string(),
    name: z.string().nullable(),
    type: z.enum(['confidential', 'public']),
    token_endpoint_auth_method: z.enum(['client_secret_basic', 'client_secret_post', 'none']),
    redirect_uris: z.array(z.string()),
    post_logout_redirect_uris: z.array(z.string()),
    grant_types: z.array(z.enum(GRANT_TYPES)),
    scopes: z.array(z.string()),
    login_actor: z.enum(['customer', 'user']),
    logo_uri: z.string().nullable(),
    client_uri: z.string().nullable(),
    policy_uri: z.string().nullable(),
    tos_uri: z.string().nullable(),
    client_secret: z.string().optional().describe('The clear secret: in the create and rotate-secret responses only'),
    secret_redacted: z.string().nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'OAuthClient', description: "A registered OAuth client (never its secret's hash)" });
export type OAuthClientView = z.infer<typeof oauthClientSchema>;

export function oauthClientView(r: OAuthClientRecord, secret?: string | null): OAuthClientView {
  return {
    id: r.client_id,
    client_id: r.client_id,
    name: r.client_name,
    type: r.type,
    token_endpoint_auth_method: r.token_endpoint_auth_method,
    redirect_uris: r.redirect_uris,
    post_logout_redirect_uris: r.post_logout_redirect_uris,
    grant_types: r.grant_types,
    scopes: r.scopes,
    login_actor: r.login_actor,
    logo_uri: r.logo_uri ?? null,
    client_uri: r.client_uri ?? null,
    policy_uri: r.policy_uri ?? null,
    tos_uri: r.tos_uri ?? null,
    ...(secret ? { client_secret: secret } : {}),
    secret_redacted: r.secret_redacted,
    created_at: r.created_at,
    updated_at: r.updated_at,
  };
}
