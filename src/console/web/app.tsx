import { useEffect, useState } from 'preact/hooks';
import { api, whenUnauthorized, type Role, type User } from './api.ts';
import { navigate, usePath } from './router.ts';
import { allows, Session } from './session.ts';
import { Field, Link, Loading, messageOf } from './ui.tsx';
import { ApiKeyPage, ApiKeysPage } from './pages/api-keys.tsx';
import { PublishableKeyPage, PublishableKeysPage } from './pages/publishable-keys.tsx';
import { AccountPage, AccountsPage } from './pages/accounts.tsx';
import { OAuthClientPage, OAuthClientsPage } from './pages/oauth-clients.tsx';
import { AuditPage } from './pages/audit.tsx';
import { OverviewPage } from './pages/overview.tsx';
import { SigningKeysPage } from './pages/signing-keys.tsx';

const NAV: { href: string; label: string; need: Role }[] = [
  { href: '/app', label: 'Overview', need: 'member' },
  { href: '/app/api-keys', label: 'Secret API keys', need: 'member' },
  { href: '/app/publishable-keys', label: 'Publishable keys', need: 'member' },
  { href: '/app/oauth-clients', label: 'OAuth clients', need: 'developer' },
  { href: '/app/users', label: 'Users', need: 'admin' },
  { href: '/app/customers', label: 'Customers', need: 'admin' },
  { href: '/app/audit', label: 'Audit log', need: 'admin' },
  { href: '/app/signing-keys', label: 'Signing keys', need: 'admin' },
];

type State = { kind: 'loading' } | { kind: 'signed-out'; note?: string } | { kind: 'signed-in'; me: User };

export function App() {
  const [state, setState] = useState<State>({ kind: 'loading' });
  useEffect(() => {
    whenUnauthorized(() => setState({ kind: 'signed-out', note: 'Your session ended. Sign in again.' }));
    api<{ user: User }>('GET', '/admin/users/me').then(
      ({ user }) => setState({ kind: 'signed-in', me: user }),
      () => setState({ kind: 'signed-out' }),
    );
  }, []);
  if (state.kind === 'loading') return <Loading />;
  if (state.kind === 'signed-out') return <SignIn note={state.note} onSignedIn={(me) => setState({ kind: 'signed-in', me })} />;
  return (
    <Session.Provider value={{ me: state.me, can: (need) => allows(state.me.role, need) }}>
      <Shell me={state.me} onSignedOut={() => setState({ kind: 'signed-out', note: 'You signed out.' })} />
    </Session.Provider>
  );
}

/**
 * Email and password -> a Medusa token -> a cookie session (httpOnly): the token is dropped as soon
 * as the session exists, and nothing is kept in localStorage or sessionStorage.
 */
function SignIn({ note, onSignedIn }: { note?: string; onSignedIn: (me: User) => void }) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    document.title = 'Sign in · Portcullis console';
  }, []);
  async function submit(e: Event) {
    e.preventDefault();
    const form = new FormData(e.target as HTMLFormElement);
    setBusy(true);
    setError(null);
    try {
      const { token } = await api<{ token: string }>(
        'POST',
        '/auth/user/emailpass',
        {
          email: form.get('email'),
          password: form.get('password'),
        },
        { signingIn: true },
      );
      await api('POST', '/auth/session', {}, { bearer: token, signingIn: true });
      const { user } = await api<{ user: User }>('GET', '/admin/users/me');
      onSignedIn(user);
    } catch (err) {
      setError(messageOf(err));
      setBusy(false);
    }
  }
  return (
    <main id="main" class="sign-in">
      <h1>Portcullis console</h1>
      <p class="hint">Sign in with your back-office account.</p>
      {note && <p role="status">{note}</p>}
      <form onSubmit={submit} noValidate>
        <Field label="Email" name="email" type="email" autoComplete="username" required />
        <Field label="Password" name="password" type="password" autoComplete="current-password" required error={error} />
        <button type="submit" class="primary" disabled={busy}>
          Sign in
        </button>
      </form>
    </main>
  );
}

function Shell({ me, onSignedOut }: { me: User; onSignedOut: () => void }) {
  const path = usePath();
  const [menuOpen, setMenuOpen] = useState(false);
  useEffect(() => setMenuOpen(false), [path]);
  const nav = NAV.filter((n) => allows(me.role, n.need));
  async function signOut() {
    await api('DELETE', '/auth/session').catch(() => undefined);
    onSignedOut();
  }
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Portcullis</span>
        <button type="button" class="menu-toggle" aria-expanded={menuOpen} aria-controls="nav" onClick={() => setMenuOpen(!menuOpen)}>
          Menu
        </button>
        <div class="who">
          <span>
            {me.email} <span class="badge">{me.role}</span>
          </span>
          <button type="button" onClick={signOut}>
            Sign out
          </button>
        </div>
      </header>
      <div class="layout">
        <nav id="nav" aria-label="Console" class={menuOpen ? 'open' : ''}>
          <ul>
            {nav.map((n) => {
              const current = n.href === '/app' ? path === '/app' || path === '/app/' : path.startsWith(n.href);
              return (
                <li key={n.href}>
                  <Link href={n.href} aria-current={current ? 'page' : undefined}>
                    {n.label}
                  </Link>
                </li>
              );
            })}
          </ul>
        </nav>
        <main id="main" tabIndex={-1}>
          <Route path={path} />
        </main>
      </div>
    </>
  );
}

function Route({ path }: { path: string }) {
  const parts = path.replace(/\/+$/, '').split('/').slice(2).map(decodeURIComponent);
  const [section, id] = parts;
  switch (section) {
    case undefined:
      return <OverviewPage />;
    case 'api-keys':
      return id ? <ApiKeyPage id={id} /> : <ApiKeysPage />;
    case 'publishable-keys':
      return id ? <PublishableKeyPage id={id} /> : <PublishableKeysPage />;
    case 'users':
      return id ? <AccountPage kind="users" id={id} /> : <AccountsPage kind="users" />;
    case 'customers':
      return id ? <AccountPage kind="customers" id={id} /> : <AccountsPage kind="customers" />;
    case 'oauth-clients':
      return id ? <OAuthClientPage id={id} /> : <OAuthClientsPage />;
    case 'audit':
      return <AuditPage />;
    case 'signing-keys':
      return <SigningKeysPage />;
    default:
      return <NotFound />;
  }
}

function NotFound() {
  useEffect(() => {
    document.title = 'Not found · Portcullis console';
  }, []);
  return (
    <>
      <h1>Page not found</h1>
      <p>
        <button type="button" onClick={() => navigate('/app')}>
          Go to the overview
        </button>
      </p>
    </>
  );
}
