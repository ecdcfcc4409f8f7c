import type { Middleware } from 'koa';
import type { Logger } from '../../logger.ts';
import { consoleBundle, type ConsoleBundle } from './bundle.ts';

export const CONSOLE_PREFIX = '/app';

/**
 * The console's pages allow our own script, stylesheet and API calls, and nothing else: no inline
 * script or style, no eval, no other origin, no framing. Preact's `style` props set CSSOM
 * properties, which this policy allows.
 */
export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "form-action 'self'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

const IMMUTABLE = 'public, max-age=31536000, immutable';

function shell(bundle: ConsoleBundle): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Portcullis console</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${CONSOLE_PREFIX}/assets/${bundle.stylesheet.name}">
<script type="module" src="${CONSOLE_PREFIX}/assets/${bundle.script.name}"></script>
</head>
<body>
<div id="root"><noscript>The Portcullis console needs JavaScript.</noscript></div>
</body>
</html>
`;
}

/**
 * The admin console: `GET /` sends a browser to it, `/app` and every path under it (client-side
 * routes) answer the HTML shell (never cached: it names the current bundle), and
 * `/app/assets/console-<hash>.(js|css)` the bundle (cached for a year: a new bundle has a new name).
 */
export function consolePages(logger: Logger): Middleware {
  return async (ctx, next) => {
    const { path } = ctx;
    if (path !== '/' && path !== CONSOLE_PREFIX && !path.startsWith(CONSOLE_PREFIX + '/')) return next();
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') {
      ctx.status = 405;
      ctx.set('Allow', 'GET, HEAD');
      ctx.body = 'Method Not Allowed';
      return;
    }
    if (path === '/') {
      ctx.redirect(CONSOLE_PREFIX);
      return;
    }
    let bundle: ConsoleBundle;
    try {
      bundle = await consoleBundle();
    } catch (err) {
      // The API works without the console: say what failed, once per request, and let the next one retry.
      logger.error({ err }, 'the admin console could not be bundled');
      ctx.status = 503;
      ctx.body = 'The admin console is unavailable';
      return;
    }
    if (path.startsWith(`${CONSOLE_PREFIX}/assets/`)) {
      const asset = bundle.byName.get(path.slice(`${CONSOLE_PREFIX}/assets/`.length));
      if (!asset) {
        ctx.status = 404;
        ctx.body = 'Not Found';
        return;
      }
      ctx.set('Cache-Control', IMMUTABLE);
      ctx.type = asset.type;
      ctx.body = asset.body;
      return;
    }
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Content-Security-Policy', CONSOLE_CSP);
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = shell(bundle);
  };
}
