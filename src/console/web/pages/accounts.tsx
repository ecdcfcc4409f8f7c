import { useState } from 'preact/hooks';
import { api, query, type Customer, type Grant, type Role, type SignIn, type User } from '../api.ts';
import { navigate } from '../router.ts';
import { useSession } from '../session.ts';
import {
  Confirm,
  Dialog,
  ErrorNote,
  Field,
  FormDialogFoot,
  Link,
  Loading,
  messageOf,
  Page,
  Select,
  Status,
  Table,
  useLoad,
  when,
} from '../ui.tsx';
import { Pager } from './api-keys.tsx';

type Kind = 'users' | 'customers';
type Account = User | Customer;
const NOUN = { users: 'user', customers: 'customer' } as const;
const KIND_LABEL: Record<SignIn['kind'], string> = {
  lineage: 'Password sign-in',
  family: 'Refresh token',
  session: 'Cookie session',
  'oauth-session': 'OAuth server session',
};

/** Users (back office) and customers (storefront): list, search, filter; users are created here too. */
export function AccountsPage({ kind }: { kind: Kind }) {
  const [q, setQ] = useState('');
  const [role, setRole] = useState('');
  const [disabled, setDisabled] = useState('');
  const [offset, setOffset] = useState(0);
  const [creating, setCreating] = useState(false);
  const list = useLoad(
    () =>
      api<Record<string, Account[]> & { count: number }>(
        'GET',
        `/admin/${kind}${query({ q, role: kind === 'users' ? role : undefined, disabled: kind === 'users' ? disabled : undefined, offset, limit: 20 })}`,
      ),
    [kind, q, role, disabled, offset],
  );
  const title = kind === 'users' ? 'Users' : 'Customers';
  const rows = list.data?.[kind] ?? [];
  return (
    <Page
      title={title}
      actions={
        kind === 'users' && (
          <button type="button" class="primary" onClick={() => setCreating(true)}>
            Create user
          </button>
        )
      }
    >
      <form class="filters" role="search" aria-label={title} onSubmit={(e) => e.preventDefault()}>
        <Field
          label={kind === 'users' ? 'Search' : 'Search by email'}
          type="search"
          value={q}
          onInput={(e) => {
            setOffset(0);
            setQ((e.target as HTMLInputElement).value);
          }}
        />
        {kind === 'users' && (
          <>
            <Select
              label="Role"
              value={role}
              onChange={(v) => (setOffset(0), setRole(v))}
              options={[
                ['', 'Any role'],
                ['admin', 'Admin'],
                ['developer', 'Developer'],
                ['member', 'Member'],
              ]}
            />
            <Select
              label="State"
              value={disabled}
              onChange={(v) => (setOffset(0), setDisabled(v))}
              options={[
                ['', 'Any'],
                ['false', 'Enabled'],
                ['true', 'Disabled'],
              ]}
            />
          </>
        )}
      </form>
      {list.error && <ErrorNote message={list.error} />}
      {!list.data ? (
        <Loading />
      ) : rows.length === 0 ? (
        <p>No {kind} found.</p>
      ) : (
        <>
          <Table
            label={title}
            head={kind === 'users' ? ['Email', 'Name', 'Role', 'State', 'Created'] : ['Email', 'Name', 'State', 'Created']}
          >
            {rows.map((a) => (
              <tr key={a.id}>
                <td>
                  <Link href={`/app/${kind}/${a.id}`}>{a.email}</Link>
                </td>
                <td>{[a.first_name, a.last_name].filter(Boolean).join(' ') || '—'}</td>
                {kind === 'users' && <td>{(a as User).role}</td>}
                <td>
                  <Status active={!a.disabled} on="Enabled" off="Disabled" />
                </td>
                <td>{when(a.created_at)}</td>
              </tr>
            ))}
          </Table>
          <Pager offset={offset} count={list.data.count} onChange={setOffset} />
        </>
      )}
      {creating && <CreateUser onClose={() => setCreating(false)} onCreated={(u) => navigate(`/app/users/${u.id}`)} />}
    </Page>
  );
}

function CreateUser({ onClose, onCreated }: { onClose: () => void; onCreated: (u: User) => void }) {
  const [role, setRole] = useState<Role>('member');
  const [error, setError] = useState<string | null>(null);
  return (
    <Dialog title="Create user" onClose={onClose}>
      <form
        noValidate
        onSubmit={async (e) => {
          e.preventDefault();
          const f = new FormData(e.target as HTMLFormElement);
          try {
            const { user } = await api<{ user: User }>('POST', '/admin/users', {
              email: f.get('email'),
              password: f.get('password'),
              role,
            });
            onCreated(user);
          } catch (err) {
            setError(messageOf(err));
          }
        }}
      >
        <Field label="Email" name="email" type="email" required autoComplete="off" />
        <Field
          label="Password"
          name="password"
          type="password"
          required
          autoComplete="new-password"
          hint="Give it to the user through a safe channel."
          error={error}
        />
        <Select
          label="Role"
          value={role}
          onChange={(v) => setRole(v as Role)}
          options={[
            ['member', 'Member (read only)'],
            ['developer', 'Developer (keys and clients)'],
            ['admin', 'Admin (everything)'],
          ]}
        />
        <FormDialogFoot action="Create" onCancel={onClose} />
      </form>
    </Dialog>
  );
}

/** One account: its role and state (users), its live sign-ins and the OAuth grants it gave. */
export function AccountPage({ kind, id }: { kind: Kind; id: string }) {
  const { me } = useSession();
  const noun = NOUN[kind];
  const base = `/admin/${kind}/${encodeURIComponent(id)}`;
  const account = useLoad(() => api<Record<string, Account>>('GET', base), [base]);
  const sessions = useLoad(() => api<{ sessions: SignIn[] }>('GET', `${base}/sessions`), [base]);
  const grants = useLoad(() => api<{ grants: Grant[] }>('GET', `${base}/grants`), [base]);
  const [confirm, setConfirm] = useState<'delete' | 'sign-out' | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const a = account.data?.[noun];
  const [role, setRole] = useState<Role | null>(null);
  if (account.error)
    return (
      <Page title={noun === 'user' ? 'User' : 'Customer'}>
        <ErrorNote message={account.error} />
      </Page>
    );
  if (!a) return <Loading />;
  const currentRole = (a as User).role;
  async function act(fn: () => Promise<unknown>, done: string) {
    setError(null);
    setNote(null);
    try {
      await fn();
      setNote(done);
      account.reload();
      sessions.reload();
      grants.reload();
    } catch (e) {
      setError(messageOf(e));
    }
  }
  return (
    <Page title={a.email}>
      <p>
        <Link href={`/app/${kind}`}>← {kind === 'users' ? 'Users' : 'Customers'}</Link>
      </p>
      {error && <ErrorNote message={error} />}
      <p role="status">{note ?? ''}</p>
      <section class="card" aria-labelledby="acct-head">
        <div class="card-head">
          <h2 id="acct-head">
            {kind === 'users' ? 'User' : 'Customer'} <Status active={!a.disabled} on="Enabled" off="Disabled" />
          </h2>
        </div>
        <dl class="facts">
          <dt>Email</dt>
          <dd>{a.email}</dd>
          <dt>Name</dt>
          <dd>{[a.first_name, a.last_name].filter(Boolean).join(' ') || '—'}</dd>
          {kind === 'users' && (
            <>
              <dt>Role</dt>
              <dd>{currentRole}</dd>
            </>
          )}
          <dt>Created</dt>
          <dd>{when(a.created_at)}</dd>
          <dt>ID</dt>
          <dd class="mono">{a.id}</dd>
        </dl>
        {kind === 'users' && (
          <form
            class="filters"
            onSubmit={(e) => {
              e.preventDefault();
              void act(() => api('POST', base, { role: role ?? currentRole }), 'Role changed.');
            }}
          >
            <Select
              label="Role"
              value={role ?? currentRole}
              onChange={(v) => setRole(v as Role)}
              options={[
                ['admin', 'Admin'],
                ['developer', 'Developer'],
                ['member', 'Member'],
              ]}
            />
            <button type="submit">Change role</button>
          </form>
        )}
        <div class="button-row">
          {kind === 'users' && (
            <button
              type="button"
              onClick={() =>
                act(() => api('POST', base, { disabled: !a.disabled }), a.disabled ? 'Enabled.' : 'Disabled: every sign-in ended.')
              }
            >
              {a.disabled ? 'Enable' : 'Disable'}
            </button>
          )}
          <button type="button" onClick={() => setConfirm('sign-out')}>
            Sign out everywhere
          </button>
          {a.id !== me.id && (
            <button type="button" class="danger" onClick={() => setConfirm('delete')}>
              Delete
            </button>
          )}
        </div>
      </section>
      <section class="card" aria-labelledby="sess-head">
        <h2 id="sess-head">Sign-ins</h2>
        {sessions.error && <ErrorNote message={sessions.error} />}
        {sessions.data && sessions.data.sessions.length === 0 && <p>No live sign-ins.</p>}
        {sessions.data && sessions.data.sessions.length > 0 && (
          <Table label="Sign-ins" head={['Kind', 'Device', 'Address', 'Created', 'Last used', 'Action']}>
            {sessions.data.sessions.map((s) => (
              <tr key={s.id}>
                <td>{KIND_LABEL[s.kind]}</td>
                <td>{[s.user_agent?.browser, s.user_agent?.os].filter(Boolean).join(' on ') || '—'}</td>
                <td>{s.ip ?? '—'}</td>
                <td>{when(s.created_at)}</td>
                <td>{when(s.last_used_at)}</td>
                <td>
                  <button type="button" onClick={() => act(() => api('DELETE', `${base}/sessions/${s.id}`), 'Sign-in ended.')}>
                    End
                  </button>
                </td>
              </tr>
            ))}
          </Table>
        )}
      </section>
      <section class="card" aria-labelledby="grants-head">
        <h2 id="grants-head">OAuth grants</h2>
        {grants.error && <ErrorNote message={grants.error} />}
        {grants.data && grants.data.grants.length === 0 && <p>No grants given to OAuth clients.</p>}
        {grants.data && grants.data.grants.length > 0 && (
          <GrantsTable
            grants={grants.data.grants}
            onWithdraw={(g) => act(() => api('DELETE', `${base}/grants/${g.id}`), 'Grant withdrawn.')}
          />
        )}
      </section>
      {confirm === 'sign-out' && (
        <Confirm
          title="Sign out everywhere?"
          message={`Every sign-in of ${a.email} ends now (tokens, refresh tokens, cookie sessions).`}
          action="Sign out everywhere"
          onClose={() => setConfirm(null)}
          onConfirm={async () => {
            await api('POST', `${base}/sign-out`, {});
            setConfirm(null);
            setNote('Signed out everywhere.');
            sessions.reload();
          }}
        />
      )}
      {confirm === 'delete' && (
        <Confirm
          title={`Delete ${noun}?`}
          message={`${a.email} is deleted for good; every sign-in ends${kind === 'users' ? ' and its API keys are revoked' : ''}.`}
          action="Delete"
          onClose={() => setConfirm(null)}
          onConfirm={async () => {
            await api('DELETE', base);
            navigate(`/app/${kind}`);
          }}
        />
      )}
    </Page>
  );
}

export function GrantsTable({
  grants,
  onWithdraw,
  showAccount,
}: {
  grants: Grant[];
  onWithdraw?: (g: Grant) => void;
  showAccount?: boolean;
}) {
  const head = ['Client', ...(showAccount ? ['Account'] : []), 'Scopes', 'Created', 'Last refreshed', ...(onWithdraw ? ['Action'] : [])];
  return (
    <Table label="OAuth grants" head={head}>
      {grants.map((g) => (
        <tr key={g.id}>
          <td>{g.client.name ?? g.client.id}</td>
          {showAccount && <td class="mono">{g.account_id ?? '—'}</td>}
          <td>{g.scopes.join(' ')}</td>
          <td>{when(g.created_at)}</td>
          <td>{when(g.last_refreshed_at)}</td>
          {onWithdraw && (
            <td>
              <button type="button" onClick={() => onWithdraw(g)}>
                Withdraw
              </button>
            </td>
          )}
        </tr>
      ))}
    </Table>
  );
}
