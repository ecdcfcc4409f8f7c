/**
 * Server-rendered pages of the OAuth flow and account recovery: plain HTML forms that work without
 * JavaScript, every input labelled, our own stylesheet (/oauth/assets/portcullis.css). Everything
 * that comes from a request or a client's registration goes through esc().
 */
export const STYLESHEET_PATH = '/oauth/assets/portcullis.css';

/** The service's name, logo and button colour (SERVICE_NAME, BRAND_LOGO_URL, BRAND_PRIMARY_COLOR). */
export interface Branding {
  serviceName: string;
  logoUrl?: string;
  /** #rrggbb; white text on it reaches 4.5:1 (checked at start by config.ts). */
  primaryColor?: string;
}

export const DEFAULT_BRANDING: Branding = { serviceName: 'Portcullis' };
/** White text on it: 6.1:1. */
const DEFAULT_PRIMARY = '#2f5bd3';

/**
 * The primary button is the brand colour with white text in both schemes (the configuration
 * guarantees 4.5:1). Links, focus rings and secondary buttons sit on the card, so dark mode gives
 * them a light tint of their own instead of the brand colour (a dark brand on a dark card fails).
 */
export function stylesheet(brand: Branding = DEFAULT_BRANDING): string {
  const primary = brand.primaryColor ?? DEFAULT_PRIMARY;
  return `
:root{color-scheme:light dark;--fg:#1d2330;--muted:#5b6475;--bg:#f4f5f7;--card:#fff;--primary:${primary};--on-primary:#fff;--accent:${primary};--danger:#b42318;--border:#8a93a3;--ok:#05603a}
@media (prefers-color-scheme:dark){:root{--fg:#e8eaef;--muted:#a3abba;--bg:#12151b;--card:#1b1f27;--accent:#9db4ff;--danger:#ff8a80;--border:#6b7384;--ok:#6ce9a6}}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
header.brand{display:flex;align-items:center;gap:.6rem;max-width:26rem;margin:2rem auto 0;padding:0 1rem;font-weight:600}
header.brand img{max-height:2rem;max-width:8rem}
main{max-width:26rem;margin:1rem auto 3rem;padding:2rem;background:var(--card);border:1px solid var(--border);border-radius:.75rem}
@media (max-width:30rem){main{margin:.5rem;padding:1.25rem}}
h1{font-size:1.4rem;margin:0 0 1rem;overflow-wrap:anywhere}
p{margin:.5rem 0 1rem;overflow-wrap:anywhere}
a{color:var(--accent)}
a:focus-visible,input:focus-visible,button:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
.muted{color:var(--muted);font-size:.9rem}
label{display:block;font-weight:600;margin:1rem 0 .25rem}
input[type=email],input[type=password],input[type=text]{width:100%;padding:.6rem .7rem;font:inherit;color:inherit;background:transparent;border:1px solid var(--border);border-radius:.4rem}
input[aria-invalid=true]{border-color:var(--danger)}
button{font:inherit;font-weight:600;padding:.6rem 1.1rem;border-radius:.4rem;border:1px solid var(--primary);cursor:pointer}
button.primary{background:var(--primary);color:var(--on-primary)}
button.secondary{background:transparent;color:var(--accent);border-color:var(--accent)}
button.link{background:none;border:none;padding:0;color:var(--accent);text-decoration:underline;font-weight:400}
.actions{display:flex;gap:.75rem;margin-top:1.5rem;flex-wrap:wrap;align-items:center}
.actions form{margin:0}
.error{color:var(--danger);border:1px solid var(--danger);border-radius:.4rem;padding:.5rem .75rem}
.notice{color:var(--ok);border:1px solid var(--ok);border-radius:.4rem;padding:.5rem .75rem}
.app{display:flex;gap:.75rem;align-items:center;margin-bottom:1rem}
.app img{width:3rem;height:3rem;object-fit:contain;border-radius:.4rem}
ul.scopes{padding-left:1.2rem}
ul.scopes li{margin:.3rem 0}
.new{font-size:.75rem;font-weight:700;text-transform:uppercase;border:1px solid currentColor;border-radius:.3rem;padding:0 .3rem;margin-left:.3rem}
ul.links{list-style:none;padding:0;display:flex;gap:1rem;flex-wrap:wrap}
.row{display:flex;justify-content:space-between;gap:1rem;flex-wrap:wrap;margin-top:1rem}
`;
}

export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Every page: the brand header (logo and service name) above the card. The account page reuses it. */
export function layout(title: string, body: string, brand: Branding = DEFAULT_BRANDING): string {
  const logo = brand.logoUrl ? `<img src="${esc(brand.logoUrl)}" alt="">` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${esc(title)}</title>
<link rel="stylesheet" href="${STYLESHEET_PATH}">
</head>
<body>
<header class="brand">${logo}<span>${esc(brand.serviceName)}</span></header>
<main>
${body}
</main>
</body>
</html>`;
}

const hidden = (name: string, value: string) => `<input type="hidden" name="${esc(name)}" value="${esc(value)}">`;
const alert = (id: string, message: string | undefined) => (message ? `<p class="error" role="alert" id="${id}">${esc(message)}</p>` : '');
const notice = (message: string | undefined) => (message ? `<p class="notice" role="status">${esc(message)}</p>` : '');
/** A page title that says what went wrong first, as a screen reader announces it. */
const titled = (title: string, error?: string) => (error ? `Error: ${error} – ${title}` : title);

export function loginPage(p: {
  brand: Branding;
  action: string;
  abortAction: string;
  csrf: string;
  clientName: string;
  audience: 'customer' | 'user';
  email?: string;
  error?: string;
  notice?: string;
  forgotUrl: string;
  signupUrl?: string;
}): string {
  const who = p.audience === 'user' ? 'your staff account' : 'your account';
  const invalid = p.error ? ' aria-invalid="true" aria-describedby="login-error"' : '';
  // After a failed attempt the password field gets the focus: the email is usually right.
  return layout(
    titled(`Sign in to ${p.clientName}`, p.error),
    `<h1>Sign in</h1>
<p>Sign in with ${who} to continue to <strong>${esc(p.clientName)}</strong>.</p>
${notice(p.notice)}${alert('login-error', p.error)}
<form method="post" action="${esc(p.action)}" novalidate>
${hidden('csrf', p.csrf)}
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required${p.error ? '' : ' autofocus'} value="${esc(p.email ?? '')}"${invalid}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${p.error ? ' autofocus' : ''}${invalid}>
<div class="row"><a href="${esc(p.forgotUrl)}">Forgot password?</a></div>
<div class="actions"><button class="primary" type="submit">Sign in</button></div>
</form>
${p.signupUrl ? `<p>New here? <a href="${esc(p.signupUrl)}">Create an account</a></p>` : ''}
<form method="post" action="${esc(p.abortAction)}">
${hidden('csrf', p.csrf)}
<div class="actions"><button class="secondary" type="submit">Cancel</button></div>
</form>`,
    p.brand,
  );
}

export function signupPage(p: {
  brand: Branding;
  action: string;
  csrf: string;
  clientName: string;
  loginUrl: string;
  email?: string;
  error?: string;
  passwordHint: string;
}): string {
  const invalid = p.error ? ' aria-invalid="true" aria-describedby="signup-error"' : '';
  return layout(
    titled(`Create an account for ${p.clientName}`, p.error),
    `<h1>Create an account</h1>
<p>Create an account to continue to <strong>${esc(p.clientName)}</strong>.</p>
${alert('signup-error', p.error)}
<form method="post" action="${esc(p.action)}" novalidate>
${hidden('csrf', p.csrf)}
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="email" required${p.error ? '' : ' autofocus'} value="${esc(p.email ?? '')}">
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="new-password" required aria-describedby="password-hint"${p.error ? ' autofocus' : ''}${invalid}>
<p class="muted" id="password-hint">${esc(p.passwordHint)}</p>
<div class="actions"><button class="primary" type="submit">Create account</button></div>
</form>
<p>Already have an account? <a href="${esc(p.loginUrl)}">Sign in</a></p>`,
    p.brand,
  );
}

export interface ConsentClient {
  name: string;
  logoUri?: string;
  clientUri?: string;
  policyUri?: string;
  tosUri?: string;
  /** Where the browser is sent afterwards: the redirect URI's host (or scheme, for an app). */
  redirectTo?: string;
}

const external = (href: string, text: string) => `<a href="${esc(href)}" rel="noopener noreferrer">${esc(text)}</a>`;

export function consentPage(p: {
  brand: Branding;
  action: string;
  abortAction: string;
  switchAction: string;
  csrf: string;
  client: ConsentClient;
  /** Every scope the app holds after this consent; `isNew` for those this consent adds. */
  scopes: { name: string; description: string; isNew: boolean }[];
  email?: string;
  accountUrl: string;
}): string {
  const c = p.client;
  const list = p.scopes.length
    ? `<ul class="scopes">${p.scopes
        .map(
          (s) =>
            `<li>${esc(s.description)} <span class="muted">(${esc(s.name)})</span>${s.isNew ? '<span class="new">New</span>' : ''}</li>`,
        )
        .join('')}</ul>`
    : '<p>It asks for no permissions beyond knowing you signed in.</p>';
  const grows = p.scopes.some((s) => !s.isNew);
  const links = [
    c.clientUri ? external(c.clientUri, 'Home page') : '',
    c.policyUri ? external(c.policyUri, 'Privacy policy') : '',
    c.tosUri ? external(c.tosUri, 'Terms of service') : '',
  ].filter(Boolean);
  return layout(
    `Allow ${c.name} access? – ${p.brand.serviceName}`,
    `<div class="app">${c.logoUri ? `<img src="${esc(c.logoUri)}" alt="${esc(c.name)} logo">` : ''}<h1>Allow <strong>${esc(c.name)}</strong> access?</h1></div>
${p.email ? `<p class="muted">Signed in as ${esc(p.email)}</p>` : ''}
${c.redirectTo ? `<p class="muted">You will be sent to <strong>${esc(c.redirectTo)}</strong>.</p>` : ''}
<p><strong>${esc(c.name)}</strong> ${grows ? 'asks for more access. After this it will be able to' : 'would like to'}:</p>
${list}
${links.length ? `<ul class="links">${links.map((l) => `<li>${l}</li>`).join('')}</ul>` : ''}
<div class="actions">
<form method="post" action="${esc(p.action)}">${hidden('csrf', p.csrf)}<button class="primary" type="submit">Allow</button></form>
<form method="post" action="${esc(p.abortAction)}">${hidden('csrf', p.csrf)}<button class="secondary" type="submit">Deny</button></form>
</div>
<p class="muted">You can remove access at any time in <a href="${esc(p.accountUrl)}">your account</a>.</p>
<form method="post" action="${esc(p.switchAction)}">${hidden('csrf', p.csrf)}<p class="muted">${p.email ? `Not ${esc(p.email)}?` : 'Not you?'} <button class="link" type="submit">Switch account</button></p></form>`,
    p.brand,
  );
}

export function messagePage(
  title: string,
  message: string,
  details: Record<string, unknown> = {},
  opts: { brand?: Branding; link?: { href: string; text: string } } = {},
): string {
  const extra = Object.entries(details)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `<p class="muted"><strong>${esc(k)}</strong>: ${esc(v)}</p>`)
    .join('');
  const link = opts.link ? `<p><a href="${esc(opts.link.href)}">${esc(opts.link.text)}</a></p>` : '';
  return layout(title, `<h1>${esc(title)}</h1><p>${esc(message)}</p>${extra}${link}`, opts.brand);
}

export function forgotPage(p: {
  brand: Branding;
  action: string;
  returnTo?: string;
  actor: string;
  sent: boolean;
  backUrl?: string;
}): string {
  const back = p.backUrl ? `<p><a href="${esc(p.backUrl)}">Back to sign in</a></p>` : '';
  if (p.sent)
    return layout(
      `Check your email – ${p.brand.serviceName}`,
      `<h1>Check your email</h1>
<p role="status">If an account exists for the address you entered, we have sent it a link to choose a new password. The link works for 15 minutes, once.</p>
<p class="muted">No email? Check your spam folder, or ask again in a few minutes.</p>${back}`,
      p.brand,
    );
  return layout(
    `Reset your password – ${p.brand.serviceName}`,
    `<h1>Reset your password</h1>
<p>Enter the email of your account and we will send you a link to choose a new password.</p>
<form method="post" action="${esc(p.action)}" novalidate>
${hidden('actor', p.actor)}${p.returnTo ? hidden('return_to', p.returnTo) : ''}
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required autofocus>
<div class="actions"><button class="primary" type="submit">Send the link</button></div>
</form>${back}`,
    p.brand,
  );
}

export function resetPage(p: { brand: Branding; action: string; token: string; error?: string; passwordHint: string }): string {
  const invalid = p.error ? ' aria-invalid="true" aria-describedby="reset-error"' : '';
  return layout(
    titled(`Choose a new password – ${p.brand.serviceName}`, p.error),
    `<h1>Choose a new password</h1>
${alert('reset-error', p.error)}
<form method="post" action="${esc(p.action)}" novalidate>
${hidden('token', p.token)}
<label for="password">New password</label>
<input id="password" name="password" type="password" autocomplete="new-password" required autofocus aria-describedby="password-hint"${invalid}>
<p class="muted" id="password-hint">${esc(p.passwordHint)}</p>
<label for="confirm">Repeat the new password</label>
<input id="confirm" name="confirm" type="password" autocomplete="new-password" required>
<div class="actions"><button class="primary" type="submit">Set the new password</button></div>
</form>
<p class="muted">Setting a new password signs you out everywhere.</p>`,
    p.brand,
  );
}

/** oidc-provider's logout confirmation: it passes its own hidden form (`form`), we add the buttons. */
export function logoutPage(form: string, brand: Branding): string {
  return layout(
    `Sign out of ${brand.serviceName}?`,
    `<h1>Sign out of ${esc(brand.serviceName)}?</h1>
${form}
<div class="actions">
<button class="primary" type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<button class="secondary" type="submit" form="op.logoutForm">No, stay signed in</button>
</div>`,
    brand,
  );
}
