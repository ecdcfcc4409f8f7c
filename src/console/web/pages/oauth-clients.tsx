import { useState } from 'preact/hooks';
import { api, type Grant, type OAuthClient } from '../api.ts';
import { navigate } from '../router.ts';
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
  SecretOnce,
  Select,
  Table,
  useLoad,
  when,
} from '../ui.tsx';
import { Pager } from './api-keys.tsx';
import { GrantsTable } from './accounts.tsx';

const GRANT_TYPES: [string, string][] = [
  ['authorization_code', 'Authorization code (sign-in with PKCE)'],
  ['refresh_token', 'Refresh token'],
  ['client_credentials', 'Client credentials (service to service)'],
];

/** OAuth clients (developers and admins): the registry, with the secret shown once at creation. */
export function OAuthClientsPage() {
  const [offset, setOffset] = useState(0);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<OAuthClient | null>(null);
  const list = useLoad(
    () => api<{ oauth_clients: OAuthClient[]; count: number }>('GET', `/admin/oauth-clients?offset=${offset}&limit=20`),
    [offset],
  );
  return (
    <Page
      title="OAuth clients"
      actions={
        <button type="button" class="primary" onClick={() => setCreating(true)}>
          Create client
        </button>
      }
    >
      {list.error && <ErrorNote message={list.error} />}
      {!list.data ? (
        <Loading />
      ) : list.data.oauth_clients.length === 0 ? (
        <p>No OAuth clients yet.</p>
      ) : (
        <>
          <Table label="OAuth clients" head={['Name', 'Client ID', 'Type', 'Signs in', 'Created']}>
            {list.data.oauth_clients.map((c) => (
              <tr key={c.id}>
                <td>
                  <Link href={`/app/oauth-clients/${encodeURIComponent(c.id)}`}>{c.name ?? c.client_id}</Link>
                </td>
                <td class="mono">{c.client_id}</td>
                <td>{c.type}</td>
                <td>{c.login_actor === 'user' ? 'Users' : 'Customers'}</td>
                <td>{when(c.created_at)}</td>
              </tr>
            ))}
          </Table>
          <Pager offset={offset} count={list.data.count} onChange={setOffset} />
        </>
      )}
      {creating && (
        <CreateClient
          onClose={() => setCreating(false)}
          onCreated={(c) => {
            setCreating(false);
            if (c.client_secret) setCreated(c);
            else navigate(`/app/oauth-clients/${encodeURIComponent(c.id)}`);
            list.reload();
          }}
        />
      )}
      {created && (
        <SecretOnce
          title={`Client ${created.client_id} created`}
          label="Client secret"
          secret={created.client_secret!}
          onClose={() => {
            setCreated(null);
            navigate(`/app/oauth-clients/${encodeURIComponent(created.id)}`);
          }}
        />
      )}
    </Page>
  );
}

function CreateClient({ onClose, onCreated }: { onClose: () => void; onCreated: (c: OAuthClient) => void }) {
  const [grantTypes, setGrantTypes] = useState<string[]>(['authorization_code', 'refresh_token']);
  const [isPublic, setPublic] = useState(false);
  const [actor, setActor] = useState('customer');
  const [error, setError] = useState<string | null>(null);
  return (
    <Dialog title="Create OAuth client" onClose={onClose}>
      <form
        noValidate
        onSubmit={async (e) => {
          e.preventDefault();
          const f = new FormData(e.target as HTMLFormElement);
          const lines = (v: FormDataEntryValue | null) =>
            String(v ?? '')
              .split(/[\s,]+/)
              .filter(Boolean);
          const scopes = lines(f.get('scopes'));
          try {
            const { oauth_client } = await api<{ oauth_client: OAuthClient }>('POST', '/admin/oauth-clients', {
              name: String(f.get('name') ?? '').trim() || null,
              redirect_uris: lines(f.get('redirect_uris')),
              grant_types: grantTypes,
              ...(scopes.length ? { scopes } : {}),
              public: isPublic,
              login_actor: actor,
            });
            onCreated(oauth_client);
          } catch (err) {
            setError(messageOf(err));
          }
        }}
      >
        <Field label="Name" name="name" required maxLength={255} />
        <div class="field">
          <label for="redirect-uris">Redirect URIs</label>
          <textarea id="redirect-uris" name="redirect_uris" rows={3} aria-describedby="redirect-hint" />
          <p class="hint" id="redirect-hint">
            One per line.
          </p>
        </div>
        <fieldset>
          <legend>Grant types</legend>
          {GRANT_TYPES.map(([v, label]) => (
            <div class="check" key={v}>
              <input
                type="checkbox"
                id={`gt-${v}`}
                checked={grantTypes.includes(v)}
                onChange={(e) =>
                  setGrantTypes((e.target as HTMLInputElement).checked ? [...grantTypes, v] : grantTypes.filter((g) => g !== v))
                }
              />
              <label for={`gt-${v}`}>{label}</label>
            </div>
          ))}
        </fieldset>
        <Field label="Scopes" name="scopes" hint="Separated by spaces; empty for the server's default scopes." />
        <div class="check">
          <input
            type="checkbox"
            id="public-client"
            checked={isPublic}
            onChange={(e) => setPublic((e.target as HTMLInputElement).checked)}
          />
          <label for="public-client">Public client (no secret: a browser or mobile app)</label>
        </div>
        <Select
          label="Who signs in"
          value={actor}
          onChange={setActor}
          options={[
            ['customer', 'Customers'],
            ['user', 'Back-office users'],
          ]}
        />
        {error && <ErrorNote message={error} />}
        <FormDialogFoot action="Create" onCancel={onClose} />
      </form>
    </Dialog>
  );
}

export function OAuthClientPage({ id }: { id: string }) {
  const base = `/admin/oauth-clients/${encodeURIComponent(id)}`;
  const client = useLoad(() => api<{ oauth_client: OAuthClient }>('GET', base), [base]);
  const grants = useLoad(() => api<{ grants: Grant[] }>('GET', `${base}/grants`), [base]);
  const [confirm, setConfirm] = useState<'rotate' | 'delete' | null>(null);
  const [secret, setSecret] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const c = client.data?.oauth_client;
  if (client.error)
    return (
      <Page title="OAuth client">
        <ErrorNote message={client.error} />
      </Page>
    );
  if (!c) return <Loading />;
  return (
    <Page title={c.name ?? c.client_id}>
      <p>
        <Link href="/app/oauth-clients">← OAuth clients</Link>
      </p>
      {error && <ErrorNote message={error} />}
      <section class="card" aria-labelledby="client-head">
        <h2 id="client-head">Client</h2>
        <dl class="facts">
          <dt>Client ID</dt>
          <dd class="mono">{c.client_id}</dd>
          <dt>Type</dt>
          <dd>{c.type}</dd>
          <dt>Secret</dt>
          <dd class="mono">{c.secret_redacted ?? '— (public client)'}</dd>
          <dt>Redirect URIs</dt>
          <dd class="break">{c.redirect_uris.join(', ') || '—'}</dd>
          <dt>Grant types</dt>
          <dd>{c.grant_types.join(', ')}</dd>
          <dt>Scopes</dt>
          <dd>{c.scopes.join(' ')}</dd>
          <dt>Who signs in</dt>
          <dd>{c.login_actor === 'user' ? 'Back-office users' : 'Customers'}</dd>
          <dt>Created</dt>
          <dd>{when(c.created_at)}</dd>
        </dl>
        <div class="button-row">
          {c.type === 'confidential' && (
            <button type="button" onClick={() => setConfirm('rotate')}>
              Rotate secret
            </button>
          )}
          <button type="button" class="danger" onClick={() => setConfirm('delete')}>
            Delete
          </button>
        </div>
      </section>
      <section class="card" aria-labelledby="cg-head">
        <h2 id="cg-head">Grants</h2>
        {grants.error && <ErrorNote message={grants.error} />}
        {grants.data && grants.data.grants.length === 0 && <p>No account has granted this client access.</p>}
        {grants.data && grants.data.grants.length > 0 && (
          <GrantsTable
            grants={grants.data.grants}
            showAccount
            onWithdraw={async (g) => {
              setError(null);
              try {
                await api('DELETE', `${base}/grants/${g.id}`);
                grants.reload();
              } catch (e) {
                setError(messageOf(e));
              }
            }}
          />
        )}
      </section>
      {confirm === 'rotate' && (
        <Confirm
          title="Rotate the client secret?"
          message="The current secret stops working now; the new one is shown once."
          action="Rotate secret"
          onClose={() => setConfirm(null)}
          onConfirm={async () => {
            const { oauth_client } = await api<{ oauth_client: OAuthClient }>('POST', `${base}/rotate-secret`, {});
            setConfirm(null);
            setSecret(oauth_client.client_secret ?? null);
            client.reload();
          }}
        />
      )}
      {confirm === 'delete' && (
        <Confirm
          title="Delete OAuth client?"
          message={`${c.client_id} is deleted; its grants and tokens are revoked.`}
          action="Delete"
          onClose={() => setConfirm(null)}
          onConfirm={async () => {
            await api('DELETE', base);
            navigate('/app/oauth-clients');
          }}
        />
      )}
      {secret && <SecretOnce title="New client secret" label="Client secret" secret={secret} onClose={() => setSecret(null)} />}
    </Page>
  );
}
