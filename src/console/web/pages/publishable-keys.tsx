import { useState } from 'preact/hooks';
import { api, query, type ApiKey, type SalesChannel } from '../api.ts';
import { navigate } from '../router.ts';
import { useSession } from '../session.ts';
import { ErrorNote, Link, Loading, messageOf, Page, Select, Status, Table, useLoad, when } from '../ui.tsx';
import { CreateKey, KeyActions, KeyDialogs, Pager, type KeyDialog } from './api-keys.tsx';

/** Publishable keys name a storefront and the sales channels it sees; they are no credential. */
export function PublishableKeysPage() {
  const { can } = useSession();
  const [offset, setOffset] = useState(0);
  const [creating, setCreating] = useState(false);
  const list = useLoad(
    () => api<{ api_keys: ApiKey[]; count: number }>('GET', `/admin/api-keys${query({ type: 'publishable', offset, limit: 20 })}`),
    [offset],
  );
  return (
    <Page
      title="Publishable keys"
      actions={
        can('developer') && (
          <button type="button" class="primary" onClick={() => setCreating(true)}>
            Create
          </button>
        )
      }
    >
      {list.error && <ErrorNote message={list.error} />}
      {!list.data ? (
        <Loading />
      ) : list.data.api_keys.length === 0 ? (
        <p>No publishable keys yet.</p>
      ) : (
        <>
          <Table label="Publishable keys" head={['Title', 'Key', 'Status', 'Sales channels', 'Created']}>
            {list.data.api_keys.map((k) => (
              <tr key={k.id}>
                <td>
                  <Link href={`/app/publishable-keys/${k.id}`}>{k.title}</Link>
                </td>
                <td class="mono">{k.redacted}</td>
                <td>
                  <Status active={!k.revoked_at} />
                </td>
                <td>{k.sales_channels.map((c) => c.name).join(', ') || '—'}</td>
                <td>{when(k.created_at)}</td>
              </tr>
            ))}
          </Table>
          <Pager offset={offset} count={list.data.count} onChange={setOffset} />
        </>
      )}
      {creating && (
        <CreateKey
          type="publishable"
          onClose={() => setCreating(false)}
          onCreated={(k) => {
            setCreating(false);
            navigate(`/app/publishable-keys/${k.id}`);
          }}
        />
      )}
    </Page>
  );
}

export function PublishableKeyPage({ id }: { id: string }) {
  const { can } = useSession();
  const key = useLoad(() => api<{ api_key: ApiKey }>('GET', `/admin/api-keys/${encodeURIComponent(id)}`), [id]);
  const channels = useLoad(() => api<{ sales_channels: SalesChannel[] }>('GET', '/admin/sales-channels?limit=1000'), []);
  const [dialog, setDialog] = useState<KeyDialog | null>(null);
  const [adding, setAdding] = useState('');
  const [error, setError] = useState<string | null>(null);
  const k = key.data?.api_key;
  if (key.error)
    return (
      <Page title="Publishable key">
        <ErrorNote message={key.error} />
      </Page>
    );
  if (!k) return <Loading />;
  const linked = new Set(k.sales_channels.map((c) => c.id));
  const available = (channels.data?.sales_channels ?? []).filter((c) => !linked.has(c.id));
  async function change(body: { add?: string[]; remove?: string[] }) {
    setError(null);
    try {
      await api('POST', `/admin/api-keys/${k!.id}/sales-channels`, body);
      setAdding('');
      key.reload();
    } catch (e) {
      setError(messageOf(e));
    }
  }
  const write = can('developer') && !k.revoked_at;
  return (
    <Page title={k.title}>
      <p>
        <Link href="/app/publishable-keys">← Publishable keys</Link>
      </p>
      <section class="card" aria-labelledby="pk-head">
        <div class="card-head">
          <h2 id="pk-head">
            Publishable key <Status active={!k.revoked_at} />
          </h2>
          {can('developer') && <KeyActions revoked={!!k.revoked_at} onPick={setDialog} />}
        </div>
        <dl class="facts">
          <dt>Key</dt>
          <dd class="mono break">{k.token}</dd>
          <dt>Created</dt>
          <dd>{when(k.created_at)}</dd>
          {k.revoked_at && (
            <>
              <dt>Revoked</dt>
              <dd>{when(k.revoked_at)}</dd>
            </>
          )}
        </dl>
      </section>
      <section class="card" aria-labelledby="sc-head">
        <h2 id="sc-head">Sales channels</h2>
        {error && <ErrorNote message={error} />}
        {k.sales_channels.length === 0 ? (
          <p>No sales channels: the storefront sees none.</p>
        ) : (
          <Table label="Sales channels of this key" head={write ? ['Name', 'ID', 'Action'] : ['Name', 'ID']}>
            {k.sales_channels.map((c) => (
              <tr key={c.id}>
                <td>{c.name}</td>
                <td class="mono">{c.id}</td>
                {write && (
                  <td>
                    <button type="button" onClick={() => change({ remove: [c.id] })} aria-label={`Remove ${c.name}`}>
                      Remove
                    </button>
                  </td>
                )}
              </tr>
            ))}
          </Table>
        )}
        {write && available.length > 0 && (
          <form
            class="filters"
            onSubmit={(e) => {
              e.preventDefault();
              if (adding) void change({ add: [adding] });
            }}
          >
            <Select
              label="Sales channel"
              value={adding}
              onChange={setAdding}
              options={[['', 'Choose…'], ...available.map((c): [string, string] => [c.id, c.name])]}
            />
            <button type="submit" disabled={!adding}>
              Add
            </button>
          </form>
        )}
      </section>
      <KeyDialogs
        k={k}
        dialog={dialog}
        revokeMessage={`Storefronts using "${k.title}" stop working at once. Revoking is irreversible.`}
        onClose={() => setDialog(null)}
        onChanged={key.reload}
      />
    </Page>
  );
}
