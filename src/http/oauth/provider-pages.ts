import type { ProviderPages } from '../../oauth/features.ts';
import { esc, layout, logoutPage, messagePage } from './views.ts';

/** The pages oidc-provider renders itself (end-session's confirmation and result, its error page), in our look. */
export function providerPages(issuer: string): ProviderPages {
  // Named after PUBLIC_URL, not after the request's Host header.
  const host = new URL(issuer).host;
  return {
    logoutSource: async (ctx, form) => {
      ctx.type = 'html';
      ctx.body = logoutPage(form, host);
    },
    postLogoutSuccessSource: async (ctx) => {
      ctx.type = 'html';
      ctx.body = messagePage('Signed out', 'You have signed out.');
    },
    renderError: async (ctx, out) => {
      ctx.type = 'html';
      ctx.body = layout(
        'Something went wrong',
        `<h1>Something went wrong</h1><p>${esc(out.error_description ?? 'The request could not be completed.')}</p><p class="muted">Error: ${esc(out.error)}</p>`,
      );
    },
  };
}
