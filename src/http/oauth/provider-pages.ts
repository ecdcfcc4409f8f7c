import type { ProviderPages } from '../../oauth/features.ts';
import { esc, layout, logoutPage, messagePage, type Branding } from './views.ts';

/** Errors about the client's registration: the page names what was sent, for the app's developer. */
const DEVELOPER_ERRORS = new Set(['invalid_client', 'invalid_redirect_uri', 'unauthorized_client', 'invalid_request', 'invalid_scope']);

/** The pages oidc-provider renders itself (end-session's confirmation and result, its error page), in our look. */
export function providerPages(brand: Branding): ProviderPages {
  return {
    // Named after the service (SERVICE_NAME), never after the request's Host header.
    logoutSource: async (ctx, form) => {
      ctx.type = 'html';
      ctx.body = logoutPage(form, brand);
    },
    postLogoutSuccessSource: async (ctx) => {
      ctx.type = 'html';
      ctx.body = messagePage('Signed out', `You have signed out of ${brand.serviceName}.`, {}, { brand });
    },
    renderError: async (ctx, out) => {
      // The request's own values, when the provider got that far: which client, which redirect URI
      // (an authorization error page is seen by the developer who made the request). Escaped.
      const params = (ctx.oidc?.params ?? {}) as Record<string, unknown>;
      const str = (v: unknown) => (typeof v === 'string' && v ? v.slice(0, 2048) : undefined);
      const clientId = str(params.client_id) ?? str(ctx.oidc?.client?.clientId);
      const redirectUri = str(params.redirect_uri);
      const forDeveloper = DEVELOPER_ERRORS.has(out.error);
      const details = forDeveloper
        ? `${clientId ? `<p class="muted">Client: <code>${esc(clientId)}</code></p>` : ''}${redirectUri ? `<p class="muted">Redirect URI sent: <code>${esc(redirectUri)}</code></p>` : ''}`
        : '';
      ctx.type = 'html';
      ctx.body = layout(
        `Error: ${out.error} – ${brand.serviceName}`,
        `<h1>Something went wrong</h1><p>${esc(out.error_description ?? 'The request could not be completed.')}</p>${details}<p class="muted">Error: ${esc(out.error)}</p>`,
        brand,
      );
    },
  };
}
