import { useState } from 'preact/hooks';
import { api, type SigningKey } from '../api.ts';
import { Confirm, ErrorNote, Loading, Page, Table, useLoad, when } from '../ui.tsx';

const STATES: Record<SigningKey['state'], { label: string; tone: string }> = {
  next: { label: 'Next', tone: '' },
  current: { label: 'Current', tone: 'ok' },
  previous: { label: 'Previous', tone: '' },
  retired: { label: 'Retired', tone: 'off' },
  revoked: { label: 'Revoked', tone: 'off' },
};

/** The state as a word (the colour only repeats it). */
function KeyState({ state }: { state: SigningKey['state'] }) {
  const s = STATES[state];
  return <span class={`badge ${s.tone}`.trim()}>{s.label}</span>;
}

/**
 * Signing keys (admins): the keys that sign tokens, a rotation with its lead time, and the
 * compromise switch (revoke). The API decides; with SIGNING_KEYS=static it refuses both changes.
 */
export function SigningKeysPage() {
  const list = useLoad(() => api<{ signing_keys: SigningKey[]; mode: 'store' | 'static' }>('GET', '/admin/signing-keys'), []);
  const [confirm, setConfirm] = useState<{ kind: 'rotate' } | { kind: 'revoke'; key: SigningKey } | null>(null);
  const [note, setNote] = useState<string | null>(null);
  const keys = list.data?.signing_keys ?? [];
  const waiting = keys.filter((k) => k.state === 'next');
  return (
    <Page
      title="Signing keys"
      actions={
        <button
          type="button"
          class="primary"
          onClick={() => {
            setNote(null);
            setConfirm({ kind: 'rotate' });
          }}
        >
          Rotate keys
        </button>
      }
    >
      <p class="hint">
        The keys that sign every token Portcullis issues. Verifiers check tokens against the public keys at{' '}
        <a href="/.well-known/jwks.json">/.well-known/jwks.json</a>.
      </p>
      {list.data?.mode === 'static' && (
        <p>
          These keys are managed outside Portcullis (<span class="mono">SIGNING_KEYS=static</span>): rotate them by changing{' '}
          <span class="mono">JWKS</span> or <span class="mono">JWKS_FILE</span> and restarting every instance.
        </p>
      )}
      <p role="status">{note ?? ''}</p>
      {list.error && <ErrorNote message={list.error} />}
      {!list.data ? (
        <Loading />
      ) : (
        <Table label="Signing keys" head={['Key ID', 'Algorithm', 'State', 'Created', 'Activates', 'Retires', 'Action']}>
          {keys.map((k) => (
            <tr key={k.kid}>
              <td class="mono kid">{k.kid}</td>
              <td>{k.alg}</td>
              <td class="times">
                <KeyState state={k.state} />
                {k.revoked_at && <span class="hint"> {when(k.revoked_at)}</span>}
              </td>
              <td class="times">{when(k.created_at)}</td>
              <td class="times">{when(k.activates_at)}</td>
              <td class="times">{when(k.retires_at)}</td>
              <td>
                {k.state !== 'retired' && k.state !== 'revoked' && (
                  <button
                    type="button"
                    class="danger"
                    aria-label={`Revoke ${k.kid}`}
                    onClick={() => {
                      setNote(null);
                      setConfirm({ kind: 'revoke', key: k });
                    }}
                  >
                    Revoke
                  </button>
                )}
              </td>
            </tr>
          ))}
        </Table>
      )}
      {confirm?.kind === 'rotate' && (
        <Confirm
          title="Rotate the signing keys?"
          message={
            waiting.length > 0
              ? `A key is already waiting as next: it is kept, and signs from ${waiting.map((k) => `${when(k.activates_at)} (${k.alg})`).join(', ')}. ` +
                'The current key then verifies the tokens it signed until they expire.'
              : 'A new key per algorithm is published now as next, and signs only after the lead time (SIGNING_KEY_LEAD_TIME), ' +
                'so every verifier has it before it meets a token it signed. The current key then verifies the tokens it signed until they expire.'
          }
          action="Rotate keys"
          onClose={() => setConfirm(null)}
          onConfirm={async () => {
            const { signing_keys } = await api<{ signing_keys: SigningKey[] }>('POST', '/admin/signing-keys/rotate', {});
            setConfirm(null);
            setNote(`Rotated: the new key signs from ${signing_keys.map((k) => `${when(k.activates_at)} (${k.alg})`).join(', ')}.`);
            list.reload();
          }}
        />
      )}
      {confirm?.kind === 'revoke' && (
        <Confirm
          title={`Revoke key ${confirm.key.kid}?`}
          message={
            'Every token this key signed is refused at once, on every instance, and the key leaves the JWKS. ' +
            (confirm.key.state === 'current' ? 'Its algorithm’s next key (or a new one) signs from now on. ' : '') +
            'Use it when a key has leaked: users whose token it signed refresh or sign in again. It cannot be undone; for a routine change, rotate instead.'
          }
          action="Revoke key"
          onClose={() => setConfirm(null)}
          onConfirm={async () => {
            await api('POST', `/admin/signing-keys/${encodeURIComponent(confirm.key.kid)}/revoke`, {});
            setConfirm(null);
            setNote(`Key ${confirm.key.kid} revoked.`);
            list.reload();
          }}
        />
      )}
    </Page>
  );
}
