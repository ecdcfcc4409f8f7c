import { esc, layout, type Branding } from '../oauth/views.ts';

/**
 * The account page's templates: server-rendered forms that work without JavaScript, on the sign-in
 * pages' layout and stylesheet, plus a stylesheet of their own for the wider page. Everything that
 * comes from a request, an account or a client's registration goes through esc().
 */
export const ACCOUNT_STYLESHEET_PATH = '/account/assets/account.css';

export const ACCOUNT_STYLESHEET = `
main{max-width:50rem;margin:1.5rem auto;padding:1.5rem}
@media (max-width:40rem){main{margin:0;border-radius:0;border-left:0;border-right:0;padding:1rem}}
header.account{display:flex;justify-content:space-between;align-items:center;gap:1rem;flex-wrap:wrap;margin-bottom:1rem}
header.account h1{margin:0}
header.account form{margin:0}
section{border-top:1px solid var(--border);padding:1rem 0}
h2{font-size:1.15rem;margin:.25rem 0 .75rem}
.flash{border:1px solid var(--border);border-left:4px solid var(--accent);border-radius:.4rem;padding:.5rem .75rem;margin:0 0 1rem}
.flash.error{border-left-color:var(--danger);color:var(--danger)}
ul.items{list-style:none;margin:0;padding:0}
ul.items>li{display:flex;justify-content:space-between;align-items:flex-start;gap:1rem;flex-wrap:wrap;padding:.75rem 0;border-bottom:1px solid var(--border)}
ul.items>li:last-child{border-bottom:0}
ul.items .what{flex:1 1 18rem;min-width:0;overflow-wrap:anywhere}
ul.items form{margin:0}
.badge{display:inline-block;font-size:.8rem;font-weight:600;padding:0 .4rem;border:1px solid var(--accent);border-radius:.3rem;color:var(--accent)}
.app{display:flex;gap:.75rem;align-items:flex-start}
.app img{width:40px;height:40px;border-radius:.4rem;object-fit:contain;background:var(--bg)}
.app .logo{width:40px;height:40px;border-radius:.4rem;display:flex;align-items:center;justify-content:center;font-weight:700;background:var(--bg);border:1px solid var(--border)}
fieldset{border:0;margin:1rem 0 0;padding:0}
legend{font-weight:600;padding:0}
.choice{display:flex;gap:1.25rem;flex-wrap:wrap}
.choice label,.check label{display:inline;font-weight:400;margin:0 0 0 .35rem}
.choice div,.check{margin:.35rem 0}
input[type=radio],input[type=checkbox]{width:1.1rem;height:1.1rem;vertical-align:-.15rem;accent-color:var(--accent)}
input[type=radio]:focus-visible,input[type=checkbox]:focus-visible,a:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
input[aria-invalid=true]{border-color:var(--danger)}
.field-error{color:var(--danger);margin:.25rem 0 0;font-size:.9rem}
a{color:var(--accent)}
button.danger{background:transparent;color:var(--danger);border-color:var(--danger)}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:0 1rem}
@media (max-width:40rem){.grid{grid-template-columns:1fr}}
`;

export interface Flash {
  kind: 'ok' | 'error';
  text: string;
  /** The form the message is about (its error is shown there and its field marked). */
  form?: 'sign-in' | 'profile' | 'password';
  /** The field to mark invalid. */
  field?: string;
  /** The email typed into the sign-in form (not a secret), so a failed sign-in keeps it. */
  email?: string;
  actorType?: 'user' | 'customer';
}

const page = (title: string, body: string, brand?: Branding) =>
  layout(title, `<link rel="stylesheet" href="${ACCOUNT_STYLESHEET_PATH}">\n${body}`, brand);
const hidden = (csrf: string) => `<input type="hidden" name="csrf" value="${esc(csrf)}">`;
const flashBox = (f: Flash | undefined, form?: Flash['form']) =>
  f && f.form === form
    ? `<p class="flash${f.kind === 'error' ? ' error' : ''}" role="${f.kind === 'error' ? 'alert' : 'status'}" id="${esc(form ?? 'page')}-message">${esc(f.text)}</p>`
    : '';

export function signInPage(p: { action: string; csrf: string; forgotPath: string; flash?: Flash; brand?: Branding }): string {
  const f = p.flash;
  const failed = f?.form === 'sign-in' && f.kind === 'error';
  const invalid = failed ? ' aria-invalid="true" aria-describedby="sign-in-message"' : '';
  const staff = f?.actorType === 'user';
  return page(
    failed ? `Sign in failed – Your account` : 'Sign in – Your account',
    `<h1>Sign in to your account</h1>
${flashBox(f, undefined)}${flashBox(f, 'sign-in')}
<form method="post" action="${esc(p.action)}" novalidate>
${hidden(p.csrf)}
<label for="email">Email</label>
<input id="email" name="email" type="email" autocomplete="username" required value="${esc(f?.email ?? '')}"${invalid}${failed ? '' : ' autofocus'}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required${invalid}${failed ? ' autofocus' : ''}>
<fieldset>
<legend>Account type</legend>
<div class="choice">
<div><input type="radio" id="as-customer" name="account_type" value="customer"${staff ? '' : ' checked'}><label for="as-customer">Customer account</label></div>
<div><input type="radio" id="as-staff" name="account_type" value="user"${staff ? ' checked' : ''}><label for="as-staff">Staff account</label></div>
</div>
</fieldset>
<div class="actions"><button class="primary" type="submit">Sign in</button></div>
</form>
<p><a href="${esc(p.forgotPath)}?actor=customer">Forgot password?</a> <span class="muted">Staff account: <a href="${esc(p.forgotPath)}?actor=user">reset a staff password</a></span></p>`,
    p.brand,
  );
}

export interface AccountView {
  email: string;
  actorType: 'user' | 'customer';
  firstName: string | null;
  lastName: string | null;
  role?: string;
}
export interface SessionItem {
  id: string;
  description: string;
  current: boolean;
  device: string;
  ip: string | null;
  createdAt: string | null;
  lastUsedAt: string | null;
}
export interface AppItem {
  id: string;
  name: string;
  logo: string | null;
  scopes: string[];
  grantedAt: string | null;
  lastUsedAt: string | null;
}
export interface ActivityItem {
  description: string;
  time: string | null;
  ip: string | null;
  failed: boolean;
  app?: string | null;
}

/** A time as a person reads it at a glance ("1 Dec 2026, 19:54 UTC"), or null. */
function timeText(iso: string | null): string | null {
  const d = iso ? new Date(iso) : null;
  if (!d || Number.isNaN(d.getTime())) return null;
  return `${d.toLocaleString('en-GB', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'UTC' })} UTC`;
}

/** A time in words (UTC, stated), in a <time> element machines read. */
function when(iso: string | null): string {
  const text = timeText(iso);
  return text ? `<time datetime="${esc(new Date(iso!).toISOString())}">${esc(text)}</time>` : '<span class="muted">unknown</span>';
}

export function accountPage(p: {
  brand?: Branding;
  csrf: string;
  account: AccountView;
  sessions: SessionItem[];
  apps: AppItem[];
  activity: ActivityItem[];
  flash?: Flash;
}): string {
  const { account: a, flash: f, csrf } = p;
  const passwordError = f?.form === 'password' && f.kind === 'error';
  /** A password field's ARIA: invalid and described by the message when the error is about it, and by its own hint. */
  const mark = (field: string, hint?: string) => {
    const bad = passwordError && f?.field === field;
    const ids = [bad ? 'password-message' : '', hint ?? ''].filter(Boolean).join(' ');
    return `${bad ? ' aria-invalid="true" autofocus' : ''}${ids ? ` aria-describedby="${ids}"` : ''}`;
  };
  const kind = a.actorType === 'user' ? `Staff account${a.role ? ` (${esc(a.role)})` : ''}` : 'Customer account';

  const sessions = p.sessions.length
    ? `<ul class="items">${p.sessions
        .map(
          (s) => `<li>
<div class="what"><strong>${esc(s.device)}</strong>${s.current ? ' <span class="badge">This device</span>' : ''}<br>
<span class="muted">${esc(s.description)} · ${s.ip ? `from ${esc(s.ip)}` : 'address unknown'}<br>
Signed in ${when(s.createdAt)} · last active ${when(s.lastUsedAt)}</span></div>
<form method="post" action="/account/sessions/${encodeURIComponent(s.id)}/end">${hidden(csrf)}<button class="secondary" type="submit" aria-label="Sign out ${esc(s.device)}${s.current ? ' (this device)' : ''}, signed in ${esc(timeText(s.createdAt) ?? '')}">Sign out</button></form>
</li>`,
        )
        .join('')}</ul>
<form method="post" action="/account/sessions/sign-out-others">${hidden(csrf)}<div class="actions"><button class="danger" type="submit">Sign out everywhere else</button></div></form>`
    : '<p>No live sign-ins.</p>';

  const apps = p.apps.length
    ? `<ul class="items">${p.apps
        .map(
          (app) => `<li>
<div class="what app">${app.logo ? `<img src="${esc(app.logo)}" alt="" width="40" height="40">` : `<span class="logo" aria-hidden="true">${esc(app.name.slice(0, 1).toUpperCase())}</span>`}
<div><strong>${esc(app.name)}</strong><br>
<span class="muted">Connected ${when(app.grantedAt)} · last used ${app.lastUsedAt ? when(app.lastUsedAt) : 'never renewed'}</span>
<ul>${app.scopes.map((s) => `<li>${esc(s)}</li>`).join('')}</ul></div></div>
<form method="post" action="/account/apps/${encodeURIComponent(app.id)}/remove">${hidden(csrf)}<button class="danger" type="submit" aria-label="Remove access for ${esc(app.name)}">Remove access</button></form>
</li>`,
        )
        .join('')}</ul>`
    : '<p>You have not connected any apps.</p>';

  const activity = p.activity.length
    ? `<ul class="items">${p.activity
        .map(
          (e) =>
            `<li><div class="what">${e.failed ? '<strong>' : ''}${esc(e.description)}${e.app ? ` · ${esc(e.app)}` : ''}${e.failed ? '</strong>' : ''}<br><span class="muted">${when(e.time)}${e.ip ? ` · from ${esc(e.ip)}` : ''}</span></div></li>`,
        )
        .join('')}</ul>`
    : '<p>No recent activity.</p>';

  return page(
    passwordError ? 'Password not changed – Your account' : 'Your account',
    `<header class="account"><h1>Your account</h1>
<form method="post" action="/account/sign-out">${hidden(csrf)}<button class="secondary" type="submit">Sign out</button></form></header>
${flashBox(f, undefined)}
<section aria-labelledby="profile-h"><h2 id="profile-h">Profile</h2>
<p>${esc(a.email)} <span class="muted">· ${kind}</span></p>
${flashBox(f, 'profile')}
<form method="post" action="/account/profile">${hidden(csrf)}
<div class="grid"><div><label for="first_name">First name</label><input id="first_name" name="first_name" type="text" autocomplete="given-name" maxlength="100" value="${esc(a.firstName ?? '')}"></div>
<div><label for="last_name">Last name</label><input id="last_name" name="last_name" type="text" autocomplete="family-name" maxlength="100" value="${esc(a.lastName ?? '')}"></div></div>
<div class="actions"><button class="primary" type="submit">Save profile</button></div></form></section>
<section aria-labelledby="password-h"><h2 id="password-h">Password</h2>
${flashBox(f, 'password')}
<form method="post" action="/account/password" novalidate>${hidden(csrf)}
<input type="text" name="username" autocomplete="username" value="${esc(a.email)}" hidden>
<label for="current_password">Current password</label><input id="current_password" name="current_password" type="password" autocomplete="current-password" required${mark('current_password')}>
<label for="new_password">New password</label><input id="new_password" name="new_password" type="password" autocomplete="new-password" minlength="8" required${mark('new_password', 'password-rules')}>
<p class="muted" id="password-rules">At least 8 characters, and not a commonly used password.</p>
<label for="confirm_password">New password again</label><input id="confirm_password" name="confirm_password" type="password" autocomplete="new-password" required${mark('confirm_password')}>
<div class="check"><input type="checkbox" id="sign_out_others" name="sign_out_others" value="on" checked><label for="sign_out_others">Sign out everywhere else</label></div>
<div class="actions"><button class="primary" type="submit">Change password</button></div></form></section>
<section aria-labelledby="sessions-h"><h2 id="sessions-h">Where you are signed in</h2>
${sessions}</section>
<section aria-labelledby="apps-h"><h2 id="apps-h">Connected apps</h2>
${apps}</section>
<section aria-labelledby="activity-h"><h2 id="activity-h">Recent security activity</h2>
${activity}</section>`,
    p.brand,
  );
}

export function accountMessagePage(title: string, message: string, link: { href: string; text: string }, brand?: Branding): string {
  return page(title, `<h1>${esc(title)}</h1><p>${esc(message)}</p><p><a href="${esc(link.href)}">${esc(link.text)}</a></p>`, brand);
}
