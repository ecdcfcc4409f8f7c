import { api, type Overview } from '../api.ts';
import { ErrorNote, Loading, Page, useLoad } from '../ui.tsx';

/** What an operator checks first: how many of each thing, the last day's sign-ins and refusals, Redis. */
export function OverviewPage() {
  const o = useLoad(() => api<{ overview: Overview }>('GET', '/admin/overview'), []);
  const v = o.data?.overview;
  return (
    <Page title="Overview">
      {o.error && <ErrorNote message={o.error} />}
      {!v ? (
        !o.error && <Loading />
      ) : (
        <>
          <ul class="tiles" aria-label="Counts">
            <Tile label="Users" value={v.accounts.users} />
            <Tile label="Customers" value={v.accounts.customers} />
            <Tile label="Active API keys" value={v.api_keys.active} />
            <Tile label="OAuth clients" value={v.oauth_clients} />
          </ul>
          <h2>Last 24 hours</h2>
          <ul class="tiles" aria-label="Last 24 hours">
            <Tile label="Sign-ins" value={v.last_24h.sign_ins} />
            <Tile label="Failed logins" value={v.last_24h.failed_logins} />
          </ul>
          {!v.last_24h.complete && <p class="hint">More than 10,000 events in the last 24 hours: these counts are a floor.</p>}
          <h2>Quota refusals</h2>
          <p>{v.quota_refusals.count} requests refused with 429 in the last 24 h, on every instance.</p>
          <h2>Store</h2>
          <p>
            {v.redis.kind === 'redis' ? 'Redis' : 'Embedded store (development)'}:{' '}
            <span class={`badge ${v.redis.status === 'up' ? 'ok' : 'off'}`}>
              {v.redis.status === 'up' ? `up (${v.redis.latency_ms ?? 0} ms)` : 'down'}
            </span>
          </p>
        </>
      )}
    </Page>
  );
}

function Tile({ label, value }: { label: string; value: number }) {
  return (
    <li class="tile">
      <span class="tile-value">{value}</span>
      <span class="tile-label">{label}</span>
    </li>
  );
}
