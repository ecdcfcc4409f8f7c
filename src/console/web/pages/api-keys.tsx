import { useState } from 'preact/hooks';
import { api, query, type ApiKey, type User } from '../api.ts';
import { navigate } from '../router.ts';
import { useSession } from '../session.ts';
import {
  ActionMenu,
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
  Status,
  Table,
  useLoad,
  when,
} from '../ui.tsx';

const PAGE = 20;

/** Settings → Secret API Keys: the signed-in user's secret keys (admins may see everyone's). */
export function ApiKeysPage() {
  const { me, can } = useSession();
  const [q, setQ] = useState('');
  const [status, setStatus] = useState('all');
  const [order, setOrder] = useState('-created_at');
  const [everyone, setEveryone] = useState(false);
  const [offset, setOffset] = useState(0);
  const [creating, setCreating] = useState(false);
  const [created, setCreated] = useState<ApiKey | null>(null);
  const list = useLoad(
    () =>
      api<{ api_keys: ApiKey[]; count: number }>(
        'GET',
        `/admin/api-keys${query({
          type: 'secret',
          q,
          revoked: status === 'all' ? undefined : status === 'revoked',
          created_by: everyone ? undefined : me.id,
          order,
          offset,
          limit: PAGE,
        })}`,
      ),
    [q, status, order, everyone, offset],
  );
  return (
    <Page
      title="Secret API keys"
      actions={
        can('developer') && (
          <button type="button" class="primary" onClick={() => setCreating(true)}>
            Create
          </button>
        )
      }
    >
      <p class="hint">Keys that call the Admin API as {everyone ? 'their creators' : 'you'}. Keep them out of client-side code.</p>
      <form class="filters" role="search" aria-label="Secret API keys" onSubmit={(e) => e.preventDefault()}>
        <Field
          label="Search"
          type="search"
          value={q}
          onInput={(e) => {
            setOffset(0);
            setQ((e.target as HTMLInputElement).value);
          }}
        />
        <Select
          label="Status"
          value={status}
          onChange={(v) => {
            setOffset(0);
            setStatus(v);
          }}
          options={[
            ['all', 'All'],
            ['active', 'Active'],
            ['revoked', 'Revoked'],
          ]}
        />
        <Select
          label="Sort by"
          value={order}
          onChange={setOrder}
          options={[
            ['-created_at', 'Newest first'],
            ['created_at', 'Oldest first'],
            ['title', 'Title A–Z'],
            ['-title', 'Title Z–A'],
            ['-last_used_at', 'Last used'],
          ]}
        />
        {me.role === 'admin' && (
          <div class="field check">
            <input
              id="all-users"
              type="checkbox"
              checked={everyone}
              onChange={(e) => {
                setOffset(0);
                setEveryone((e.target as HTMLInputElement).checked);
              }}
            />
            <label for="all-users">Show every user's keys</label>
          </div>
        )}
      </form>
      {list.error && <ErrorNote message={list.error} />}
      {!list.data ? (
        <Loading />
      ) : list.data.api_keys.length === 0 ? (
        <p>No secret API keys{q || status !== 'all' ? ' match' : ' yet'}.</p>
      ) : (
        <>
          <Table label="Secret API keys" head={['Title', 'Key', 'Status', 'Created', 'Last used']}>
            {list.data.api_keys.map((k) => (
              <tr key={k.id} class="clickable" onClick={() => navigate(`/app/api-keys/${k.id}`)}>
                <td>
                  <Link href={`/app/api-keys/${k.id}`} onClick={(e) => e.stopPropagation()}>
                    {k.title}
                  </Link>
                </td>
                <td class="mono">{k.redacted}</td>
                <td>
                  <Status active={!k.revoked_at} />
                </td>
                <td>{when(k.created_at)}</td>
                <td>{when(k.last_used_at)}</td>
              </tr>
            ))}
          </Table>
          <Pager offset={offset} count={list.data.count} onChange={setOffset} />
        </>
      )}
      {creating && (
        <CreateKey
          type="secret"
          onClose={() => setCreating(false)}
          onCreated={(k) => {
            setCreating(false);
            setCreated(k);
            list.reload();
          }}
        />
      )}
      {created && (
        <SecretOnce title="Secret API key created" label="Secret API key" secret={created.token} onClose={() => setCreated(null)} />
      )}
    </Page>
  );
}

export function Pager({
  offset,
  count,
  onChange,
  size = PAGE,
}: {
  offset: number;
  count: number;
  onChange: (o: number) => void;
  size?: number;
}) {
  if (count <= size) return <p class="hint">{count === 1 ? '1 result' : `${count} results`}</p>;
  return (
    <div class="pager">
      <span>
        {offset + 1}–{Math.min(offset + size, count)} of {count}
      </span>
      <button type="button" disabled={offset === 0} onClick={() => onChange(Math.max(0, offset - size))}>
        Previous
      </button>
      <button type="button" disabled={offset + size >= count} onClick={() => onChange(offset + size)}>
        Next
      </button>
    </div>
  );
}

export function CreateKey({
  type,
  onClose,
  onCreated,
}: {
  type: 'secret' | 'publishable';
  onClose: () => void;
  onCreated: (k: ApiKey) => void;
}) {
  const [title, setTitle] = useState('');
  const [error, setError] = useState<string | null>(null);
  async function save(e: Event) {
    e.preventDefault();
    if (!title.trim()) return setError('Enter a title.');
    try {
      const { api_key } = await api<{ api_key: ApiKey }>('POST', '/admin/api-keys', { title: title.trim(), type });
      onCreated(api_key);
    } catch (err) {
      setError(messageOf(err));
    }
  }
  return (
    <Dialog title={type === 'secret' ? 'Create secret API key' : 'Create publishable key'} onClose={onClose}>
      <form onSubmit={save} noValidate>
        <Field
          label="Title"
          value={title}
          required
          maxLength={255}
          error={error}
          hint={type === 'secret' ? 'What the key is for, e.g. "CI deploys".' : 'The storefront it names.'}
          onInput={(e) => setTitle((e.target as HTMLInputElement).value)}
        />
        <FormDialogFoot action="Save" onCancel={onClose} />
      </form>
    </Dialog>
  );
}

/** The creator's email where the signed-in user may look it up (admins), else who it is relative to me. */
export function useCreator(id: string | undefined): string {
  const { me } = useSession();
  const other = useLoad(
    () =>
      id && id !== me.id && me.role === 'admin'
        ? api<{ user: User }>('GET', `/admin/users/${id}`).catch(() => null)
        : Promise.resolve(null),
    [id],
  );
  if (!id) return '—';
  if (id === me.id) return `${me.email} (you)`;
  return other.data?.user.email ?? id;
}

export function ApiKeyPage({ id }: { id: string }) {
  const { can } = useSession();
  const key = useLoad(() => api<{ api_key: ApiKey }>('GET', `/admin/api-keys/${encodeURIComponent(id)}`), [id]);
  const [dialog, setDialog] = useState<KeyDialog | null>(null);
  const k = key.data?.api_key;
  const creator = useCreator(k?.created_by);
  const revoker = useCreator(k?.revoked_by ?? undefined);
  if (key.error)
    return (
      <Page title="Secret API key">
        <ErrorNote message={key.error} />
      </Page>
    );
  if (!k) return <Loading />;
  return (
    <Page title={k.title}>
      <p>
        <Link href="/app/api-keys">← Secret API keys</Link>
      </p>
      <section class="card" aria-labelledby="key-head">
        <div class="card-head">
          <h2 id="key-head">
            Secret API key <Status active={!k.revoked_at} />
          </h2>
          {can('developer') && <KeyActions revoked={!!k.revoked_at} onPick={setDialog} />}
        </div>
        <dl class="facts">
          <dt>Key</dt>
          <dd class="mono">{k.redacted}</dd>
          <dt>Scopes</dt>
          <dd>{k.scopes?.join(' ') || '—'}</dd>
          <dt>Created</dt>
          <dd>{when(k.created_at)}</dd>
          <dt>Last used</dt>
          <dd>{when(k.last_used_at)}</dd>
          <dt>Created by</dt>
          <dd>{creator}</dd>
          {k.revoked_at && (
            <>
              <dt>Revoked</dt>
              <dd>
                {when(k.revoked_at)} by {revoker}
              </dd>
            </>
          )}
        </dl>
      </section>
      <KeyDialogs
        k={k}
        dialog={dialog}
        revokeMessage={`"${k.title}" stops working at once. Revoking is irreversible.`}
        onClose={() => setDialog(null)}
        onChanged={key.reload}
      />
    </Page>
  );
}

export type KeyDialog = 'edit' | 'revoke' | 'delete';

/** The dialog a key's menu opened: edit its title, revoke it (`revokeMessage` says what stops), or delete it. */
export function KeyDialogs({
  k,
  dialog,
  revokeMessage,
  onClose,
  onChanged,
}: {
  k: ApiKey;
  dialog: KeyDialog | null;
  revokeMessage: string;
  onClose: () => void;
  onChanged: () => void;
}) {
  if (dialog === 'edit') return <EditTitle k={k} onClose={onClose} onSaved={() => (onClose(), onChanged())} />;
  if (dialog === 'revoke')
    return (
      <Confirm
        title="Revoke API key?"
        message={revokeMessage}
        action="Revoke API key"
        onClose={onClose}
        onConfirm={async () => {
          await api('POST', `/admin/api-keys/${k.id}/revoke`, {});
          onClose();
          onChanged();
        }}
      />
    );
  if (dialog === 'delete')
    return (
      <Confirm
        title="Delete API key?"
        message={`"${k.title}" is deleted for good.`}
        action="Delete"
        onClose={onClose}
        onConfirm={async () => {
          await api('DELETE', `/admin/api-keys/${k.id}`);
          navigate(k.type === 'secret' ? '/app/api-keys' : '/app/publishable-keys');
        }}
      />
    );
  return null;
}

/** A key's menu on its details page: edit; revoke while it is active; delete once revoked (as the API allows). */
export function KeyActions({ revoked, onPick }: { revoked: boolean; onPick: (dialog: KeyDialog) => void }) {
  return (
    <ActionMenu>
      <button type="button" onClick={() => onPick('edit')}>
        Edit
      </button>
      {!revoked && (
        <button type="button" onClick={() => onPick('revoke')}>
          Revoke API key
        </button>
      )}
      {revoked && (
        <button type="button" onClick={() => onPick('delete')}>
          Delete
        </button>
      )}
    </ActionMenu>
  );
}

export function EditTitle({ k, onClose, onSaved }: { k: ApiKey; onClose: () => void; onSaved: () => void }) {
  const [title, setTitle] = useState(k.title);
  const [error, setError] = useState<string | null>(null);
  return (
    <Dialog title="Edit API key" onClose={onClose}>
      <form
        noValidate
        onSubmit={async (e) => {
          e.preventDefault();
          if (!title.trim()) return setError('Enter a title.');
          try {
            await api('POST', `/admin/api-keys/${k.id}`, { title: title.trim() });
            onSaved();
          } catch (err) {
            setError(messageOf(err));
          }
        }}
      >
        <Field
          label="Title"
          value={title}
          required
          maxLength={255}
          error={error}
          onInput={(e) => setTitle((e.target as HTMLInputElement).value)}
        />
        <FormDialogFoot action="Save" onCancel={onClose} />
      </form>
    </Dialog>
  );
}
