import { z } from 'zod';
import type { JsonSchema, SchemaComponents } from './schemas.ts';

/*
 * The OAuth 2.0 / OpenID Connect endpoints oidc-provider serves under /oauth, and the documents
 * at /.well-known. The provider, not defineRoute, answers them, so they are described here by
 * hand: what a client sends and what it gets back. (Discovery stays the machine-readable truth.)
 */

const oauthError = z
  .object({
    error: z
      .string()
      .describe('An RFC 6749 error code')
      .meta({ examples: ['invalid_client', 'invalid_grant', 'invalid_request', 'invalid_token', 'temporarily_unavailable'] }),
    error_description: z.string().optional().describe('What went wrong, for a developer'),
  })
  .meta({ id: 'OAuthError', description: 'An OAuth error (RFC 6749 §5.2)' });

const clientAuth = {
  client_id: z
    .string()
    .max(128)
    .optional()
    .describe('The client; required for public clients and client_secret_post')
    .meta({ examples: ['webapp'] }),
  client_secret: z
    .string()
    .max(512)
    .optional()
    .describe('client_secret_post only; client_secret_basic sends it in the Authorization header'),
};

const tokenRequest = z
  .object({
    grant_type: z
      .enum(['authorization_code', 'refresh_token', 'client_credentials'])
      .describe('The grants a client may use are the ones it was registered with'),
    code: z.string().optional().describe('authorization_code: the code from the redirect'),
    redirect_uri: z.string().optional().describe('authorization_code: the redirect URI of the authorization request'),
    code_verifier: z.string().optional().describe('authorization_code: the PKCE verifier (required of public clients)'),
    refresh_token: z
      .string()
      .optional()
      .describe('refresh_token: the refresh token; it rotates on every use, and reusing one revokes the grant'),
    scope: z
      .string()
      .optional()
      .describe('Space-separated scopes (client_credentials, or fewer than granted on refresh)')
      .meta({ examples: ['read write'] }),
    resource: z.string().optional().describe('The API the access token is for (RFC 8707); defaults to OAUTH_RESOURCE_AUDIENCE'),
    ...clientAuth,
  })
  .meta({ id: 'OAuthTokenRequest' });

const tokenResponse = z
  .object({
    access_token: z.string().describe('A JWT (RFC 9068, typ at+jwt) for the API; an opaque token when only OpenID scopes were granted'),
    token_type: z.literal('Bearer'),
    expires_in: z
      .number()
      .int()
      .min(1)
      .describe('Seconds')
      .meta({ examples: [3600] }),
    scope: z
      .string()
      .optional()
      .meta({ examples: ['openid profile read'] }),
    refresh_token: z.string().optional().describe('For clients registered with the refresh_token grant'),
    id_token: z.string().optional().describe('When the scope held openid'),
  })
  .meta({ id: 'OAuthTokenResponse' });

const tokenHint = z.enum(['access_token', 'refresh_token']).optional().describe('Where to look first');

const introspectionRequest = z
  .object({ token: z.string().describe('The token to look at'), token_type_hint: tokenHint, ...clientAuth })
  .meta({ id: 'OAuthIntrospectionRequest' });

const introspectionResponse = z
  .looseObject({
    active: z.boolean().describe("false for an unknown, expired or revoked token, and for another client's token"),
    sub: z.string().optional(),
    client_id: z.string().optional(),
    scope: z.string().optional(),
    token_type: z.string().optional(),
    exp: z.number().int().optional(),
    iat: z.number().int().optional(),
    iss: z.string().optional(),
    aud: z.union([z.string(), z.array(z.string())]).optional(),
  })
  .meta({ id: 'OAuthIntrospectionResponse', description: 'RFC 7662: a client learns about its own tokens only' });

const revocationRequest = z
  .object({ token: z.string().describe('The token to revoke'), token_type_hint: tokenHint, ...clientAuth })
  .meta({ id: 'OAuthRevocationRequest' });

const userinfo = z
  .looseObject({
    sub: z.string().meta({ examples: ['cus_01JD3X9Q5T6V7W8X9Y0Z1A2B3C'] }),
    actor_type: z.enum(['user', 'customer']).optional().describe('Whether the subject is a back-office user or a customer'),
    name: z.string().optional(),
    given_name: z.string().optional(),
    family_name: z.string().optional(),
    updated_at: z.number().int().optional(),
    email: z.string().optional(),
    email_verified: z.boolean().optional(),
  })
  .meta({ id: 'OAuthUserinfo', description: 'The claims of the scopes granted: openid (sub, actor_type), profile, email' });

const jwks = z
  .object({
    keys: z.array(
      z
        .looseObject({ kty: z.string(), kid: z.string(), use: z.string().optional(), alg: z.string().optional() })
        .describe('A public JSON Web Key (RFC 7517)'),
    ),
  })
  .meta({ id: 'JsonWebKeySet', description: 'The public signing keys' });

const discovery = z
  .looseObject({
    issuer: z.string(),
    authorization_endpoint: z.string(),
    token_endpoint: z.string(),
    jwks_uri: z.string(),
    userinfo_endpoint: z.string().optional(),
    introspection_endpoint: z.string().optional(),
    revocation_endpoint: z.string().optional(),
    end_session_endpoint: z.string().optional(),
    pushed_authorization_request_endpoint: z.string().optional(),
    scopes_supported: z.array(z.string()).optional(),
    grant_types_supported: z.array(z.string()).optional(),
    token_endpoint_auth_methods_supported: z.array(z.string()).optional(),
  })
  .meta({ id: 'AuthorizationServerMetadata', description: 'OpenID Connect Discovery 1.0 / RFC 8414 metadata' });

const authorizationParams = z
  .object({
    response_type: z.literal('code'),
    client_id: z.string(),
    redirect_uri: z.string().describe("One of the client's registered redirect URIs"),
    scope: z
      .string()
      .describe('Space-separated; openid for an ID token')
      .meta({ examples: ['openid profile email read'] }),
    state: z.string().optional(),
    nonce: z.string().optional(),
    code_challenge: z.string().optional().describe('PKCE (required of public clients)'),
    code_challenge_method: z.literal('S256').optional(),
    response_mode: z.enum(['query', 'fragment', 'form_post']).optional(),
    prompt: z
      .string()
      .optional()
      .meta({ examples: ['login', 'consent'] }),
    resource: z.string().optional(),
    request_uri: z.string().optional().describe('A request_uri from /oauth/par instead of the other parameters'),
  })
  .meta({ id: 'OAuthAuthorizationRequest' });

const parResponse = z
  .object({ request_uri: z.string().meta({ examples: ['urn:ietf:params:oauth:request_uri:abc123'] }), expires_in: z.number().int().min(1) })
  .meta({ id: 'OAuthPushedAuthorizationResponse' });

const endSessionParams = z.object({
  id_token_hint: z.string().optional().describe('An ID token of the session'),
  post_logout_redirect_uri: z.string().optional().describe("One of the client's registered post-logout redirect URIs"),
  client_id: z.string().optional(),
  state: z.string().optional(),
});

/** Query parameters from an object schema (form fields become query parameters on GET). */
function queryParameters(components: SchemaComponents, schema: z.ZodObject): JsonSchema[] {
  const shape = schema.shape as Record<string, z.ZodType>;
  return Object.entries(shape).map(([name, field]) => {
    const { description, ...rest } = components.convert(field, 'input') as { description?: string };
    return { name, in: 'query', required: !field.safeParse(undefined).success, ...(description ? { description } : {}), schema: rest };
  });
}

const json = (components: SchemaComponents, schema: z.ZodType) => ({
  'application/json': { schema: components.convert(schema, 'output') },
});

/** A form body, which the token, introspection and revocation endpoints also take as JSON. */
function formBody(components: SchemaComponents, schema: z.ZodType, alsoJson: boolean) {
  const s = components.convert(schema, 'input');
  return {
    required: true,
    content: { 'application/x-www-form-urlencoded': { schema: s }, ...(alsoJson ? { 'application/json': { schema: s } } : {}) },
  };
}

const TAGS = ['oauth'];
const CLIENT_AUTH = [{ oauthClient: [] }, {}];
const NO_STORE = { 'Cache-Control': { description: 'no-store', schema: { type: 'string' } } };

/** The path items of the OAuth endpoints and discovery documents. */
export function oauthPaths(components: SchemaComponents): Record<string, Record<string, JsonSchema>> {
  const error = (description: string) => ({ description, content: json(components, oauthError) });
  const errors = {
    400: error('invalid_request, invalid_grant, unsupported_grant_type, invalid_scope'),
    401: error('invalid_client: the client did not authenticate'),
    429: error('Too many requests (Retry-After)'),
    503: error('temporarily_unavailable: the store is unreachable (Retry-After)'),
  };
  const redirect = (description: string) => ({
    description,
    headers: { Location: { description: 'Where the browser goes next', schema: { type: 'string' } } },
  });
  const discoveryOp = (operationId: string, summary: string) => ({
    get: {
      operationId,
      tags: TAGS,
      summary,
      responses: { 200: { description: 'The metadata (the endpoints carry PUBLIC_URL)', content: json(components, discovery) } },
    },
  });
  const jwksOp = (operationId: string, summary: string, description: string) => ({
    get: {
      operationId,
      tags: TAGS,
      summary,
      description,
      responses: {
        200: { description: 'The public keys', content: { 'application/jwk-set+json': { schema: components.convert(jwks, 'output') } } },
      },
    },
  });

  return {
    '/oauth/authorize': {
      get: {
        operationId: 'getOauthAuthorize',
        tags: TAGS,
        summary: 'Start an authorization code flow (a browser navigation, not an API call)',
        description:
          'The client sends the browser here. The user signs in on the login page and allows the scopes on the consent page; the browser then returns to `redirect_uri` with `code` and `state` (or `error`). POST with the same parameters as a form works too.',
        parameters: queryParameters(components, authorizationParams),
        responses: {
          302: redirect('Back to the client: `redirect_uri?code=…&state=…&iss=…`, or `?error=…`'),
          303: redirect('To the login or consent page'),
          400: {
            description:
              'An HTML error page when the client or its redirect URI is not valid (nothing is sent to an unverified redirect URI)',
            content: { 'text/html': { schema: { type: 'string' } } },
          },
        },
      },
    },
    '/oauth/par': {
      post: {
        operationId: 'postOauthPar',
        tags: TAGS,
        summary: 'Push an authorization request (RFC 9126) and get a request_uri for /oauth/authorize',
        security: CLIENT_AUTH,
        requestBody: formBody(components, authorizationParams.extend(clientAuth).meta({ id: 'OAuthPushedAuthorizationRequest' }), false),
        responses: {
          201: { description: 'The request_uri to send to /oauth/authorize with client_id', content: json(components, parResponse) },
          ...errors,
        },
      },
    },
    '/oauth/token': {
      post: {
        operationId: 'postOauthToken',
        tags: TAGS,
        summary: 'Exchange a code, a refresh token or client credentials for tokens',
        description:
          'Client authentication: `client_secret_basic` (HTTP Basic with client_id and client_secret), `client_secret_post` (both in the body) or, for public clients, `client_id` alone with PKCE. The body is a form; a JSON object is taken too.',
        security: CLIENT_AUTH,
        requestBody: formBody(components, tokenRequest, true),
        responses: { 200: { description: 'The tokens', headers: NO_STORE, content: json(components, tokenResponse) }, ...errors },
      },
    },
    '/oauth/introspect': {
      post: {
        operationId: 'postOauthIntrospect',
        tags: TAGS,
        summary: 'Is this token active, and what does it carry? (RFC 7662)',
        description:
          'A client may introspect its own tokens only; any other token is `{"active": false}`. The body is a form; a JSON object is taken too.',
        security: CLIENT_AUTH,
        requestBody: formBody(components, introspectionRequest, true),
        responses: { 200: { description: "The token's state", content: json(components, introspectionResponse) }, ...errors },
      },
    },
    '/oauth/revoke': {
      post: {
        operationId: 'postOauthRevoke',
        tags: TAGS,
        summary: 'Revoke an access or refresh token (RFC 7009)',
        description:
          'A client may revoke its own tokens only. An unknown token is answered 200 as well. The body is a form; a JSON object is taken too.',
        security: CLIENT_AUTH,
        requestBody: formBody(components, revocationRequest, true),
        responses: { 200: { description: 'Revoked, or nothing to revoke (empty body)' }, ...errors },
      },
    },
    '/oauth/userinfo': Object.fromEntries(
      (['get', 'post'] as const).map((method) => [
        method,
        {
          operationId: `${method}OauthUserinfo`,
          tags: TAGS,
          summary: "The claims about the signed-in user that the access token's OpenID scopes allow",
          security: [{ bearer: [] }],
          responses: {
            200: { description: 'The claims', content: json(components, userinfo) },
            401: {
              ...error('invalid_token'),
              headers: { 'WWW-Authenticate': { description: 'Bearer error="invalid_token"', schema: { type: 'string' } } },
            },
            403: error("insufficient_scope: the token's grant lacks openid"),
            503: errors[503],
          },
        },
      ]),
    ),
    '/oauth/end-session': {
      get: {
        operationId: 'getOauthEndSession',
        tags: TAGS,
        summary: 'Sign out of the authorization server (RP-initiated logout; a browser navigation)',
        description:
          'Shows a confirmation page; confirming ends the server session and revokes the grants that end with it, then returns to `post_logout_redirect_uri` when it is registered.',
        parameters: queryParameters(components, endSessionParams),
        responses: {
          200: { description: 'The sign-out confirmation page', content: { 'text/html': { schema: { type: 'string' } } } },
          400: error('invalid_request'),
        },
      },
    },
    '/oauth/jwks': jwksOp(
      'getOauthJwks',
      'The keys that sign ID tokens and OAuth access tokens',
      'The same keys as /.well-known/jwks.json.',
    ),
    '/.well-known/jwks.json': jwksOp(
      'getWellKnownJwks',
      'The keys that sign first-party JWTs, ID tokens and OAuth access tokens',
      'Verify a token offline with these; `kid` names the key.',
    ),
    '/.well-known/openid-configuration': discoveryOp('getOpenidConfiguration', 'OpenID Connect discovery'),
    '/.well-known/oauth-authorization-server': discoveryOp(
      'getOauthAuthorizationServer',
      'OAuth 2.0 authorization server metadata (RFC 8414); the same document',
    ),
  };
}

/** How an OAuth client authenticates at the token, introspection, revocation and PAR endpoints. */
export const OAUTH_CLIENT_SCHEME = {
  type: 'http',
  scheme: 'basic',
  description:
    'client_secret_basic: the client_id and client_secret as HTTP Basic credentials (client_secret_post sends them in the body instead; public clients send client_id alone)',
} as const;
