/**
 * Server-rendered pages of the OAuth flow: plain HTML forms that work without JavaScript,
 * every input labelled, our own stylesheet (/oauth/assets/portcullis.css). Everything that comes
 * from a request or a client's registration goes through esc().
 */
export const STYLESHEET_PATH = '/oauth/assets/portcullis.css';

export const STYLESHEET = `
:root{color-scheme:light dark;--fg:#1d2330;--muted:#5b6475;--bg:#f4f5f7;--card:#fff;--accent:#2f5bd3;--danger:#b42318;--border:#d5d9e0}
@media (prefers-color-scheme:dark){:root{--fg:#e8eaef;--muted:#a3abba;--bg:#12151b;--card:#1b1f27;--accent:#7b9cff;--danger:#ff8a80;--border:#333a46}}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--fg);background:var(--bg)}
main{max-width:26rem;margin:3rem auto;padding:2rem;background:var(--card);border:1px solid var(--border);border-radius:.75rem}
h1{font-size:1.4rem;margin:0 0 1rem}
p{margin:.5rem 0 1rem}
.muted{color:var(--muted);font-size:.9rem}
label{display:block;font-weight:600;margin:1rem 0 .25rem}
input[type=email],input[type=password],input[type=text]{width:100%;padding:.6rem .7rem;font:inherit;color:inherit;background:transparent;border:1px solid var(--border);border-radius:.4rem}
input:focus-visible,button:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
button{font:inherit;font-weight:600;padding:.6rem 1.1rem;border-radius:.4rem;border:1px solid var(--accent);cursor:pointer}
button.primary{background:var(--accent);color:#fff}
button.secondary{background:transparent;color:var(--accent)}
.actions{display:flex;gap:.75rem;margin-top:1.5rem;flex-wrap:wrap}
.error{color:var(--danger);border:1px solid var(--danger);border-radius:.4rem;padding:.5rem .75rem}
ul.scopes{padding-left:1.2rem}
ul.scopes li{margin:.3rem 0}
`;

export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"'`]/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function layout(title: string, body: string): string {
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
<main>
${body}
</main>
</body>
</html>`;
}

export function loginPage(p: {
  action: string;
  abortAction: string;
  csrf: string;
  clientName: string;
  audience: 'customer' | 'user';
  email?: string;
  error?: string;
}): string {
  const who = p.audience === 'user' ? 'your staff account' : 'your account';
  return layout(
    'Sign in',
    `<h1>Sign in</h1>
<p>Sign in with ${who} to continue to <strong>${esc(p.clientName)}</strong>.</p>
${p.error ? `<p class="error" role="alert" id="login-error">${esc(p.error)}</p>` : ''}
<form method="post" action="${esc(p.action)}" novalidate>
<input type="hidden" name="csrf" value="${esc(p.csrf)}">
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required autofocus value="${esc(p.email ?? '')}"${p.error ? ' aria-describedby="login-error" aria-invalid="true"' : ''}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required>
<div class="actions"><button class="primary" type="submit">Sign in</button></div>
</form>
<form method="post" action="${esc(p.abortAction)}">
<input type="hidden" name="csrf" value="${esc(p.csrf)}">
<div class="actions"><button class="secondary" type="submit">Cancel</button></div>
</form>`,
  );
}

export function consentPage(p: {
  action: string;
  abortAction: string;
  csrf: string;
  clientName: string;
  scopes: { name: string; description: string }[];
  email?: string;
}): string {
  const list = p.scopes.length
    ? `<ul class="scopes">${p.scopes.map((s) => `<li>${esc(s.description)} <span class="muted">(${esc(s.name)})</span></li>`).join('')}</ul>`
    : '<p>It asks for no permissions beyond knowing you signed in.</p>';
  return layout(
    'Allow access?',
    `<h1>Allow <strong>${esc(p.clientName)}</strong> access?</h1>
${p.email ? `<p class="muted">Signed in as ${esc(p.email)}</p>` : ''}
<p><strong>${esc(p.clientName)}</strong> would like to:</p>
${list}
<div class="actions">
<form method="post" action="${esc(p.action)}"><input type="hidden" name="csrf" value="${esc(p.csrf)}"><button class="primary" type="submit">Allow</button></form>
<form method="post" action="${esc(p.abortAction)}"><input type="hidden" name="csrf" value="${esc(p.csrf)}"><button class="secondary" type="submit">Deny</button></form>
</div>`,
  );
}

export function messagePage(title: string, message: string, details: Record<string, unknown> = {}): string {
  const extra = Object.entries(details)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `<p class="muted"><strong>${esc(k)}</strong>: ${esc(v)}</p>`)
    .join('');
  return layout(title, `<h1>${esc(title)}</h1><p>${esc(message)}</p>${extra}`);
}

/** oidc-provider's logout confirmation: it passes its own hidden form (`form`), we add the buttons. */
export function logoutPage(form: string, host: string): string {
  return layout(
    'Sign out',
    `<h1>Sign out of ${esc(host)}?</h1>
${form}
<div class="actions">
<button class="primary" type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>
<button class="secondary" type="submit" form="op.logoutForm">No, stay signed in</button>
</div>`,
  );
}
