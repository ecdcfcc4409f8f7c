import type { ComponentChildren, InputHTMLAttributes } from 'preact';
import { useEffect, useId, useLayoutEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api.ts';
import { followLink } from './router.ts';

export function Link({
  href,
  children,
  onClick,
  ...rest
}: {
  href: string;
  children: ComponentChildren;
  onClick?: (e: MouseEvent) => void;
  'aria-current'?: 'page';
}) {
  return (
    <a
      href={href}
      onClick={(e) => {
        onClick?.(e);
        followLink(e, href);
      }}
      {...rest}
    >
      {children}
    </a>
  );
}

/** The first page after a load keeps the browser's focus order (the skip link comes first). */
let firstPage = true;

/** Sets the document title and, on a move to another page, focuses its heading so a screen reader hears the new page. */
export function Page({ title, actions, children }: { title: string; actions?: ComponentChildren; children: ComponentChildren }) {
  const heading = useRef<HTMLHeadingElement>(null);
  useEffect(() => {
    document.title = `${title} · Portcullis console`;
    if (firstPage) firstPage = false;
    else heading.current?.focus();
  }, [title]);
  return (
    <>
      <div class="page-head">
        <h1 tabIndex={-1} ref={heading}>
          {title}
        </h1>
        {actions && <div class="actions">{actions}</div>}
      </div>
      {children}
    </>
  );
}

/**
 * A modal dialog on the native <dialog>: the rest of the page is inert while it is open (focus stays
 * inside), Escape closes it, and focus returns to what had it before.
 */
export function Dialog({
  title,
  onClose,
  children,
  footer,
}: {
  title: string;
  onClose: () => void;
  children: ComponentChildren;
  footer?: ComponentChildren;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  // A layout effect: its cleanup runs as the dialog leaves the page, not after the next paint as a
  // passive effect's does (Preact 11, like React), so focus goes back to the opener at once instead
  // of resting on the document in between, where a screen reader announces the page.
  useLayoutEffect(() => {
    const opener = document.activeElement as HTMLElement | null;
    const dialog = ref.current!;
    dialog.showModal();
    const cancel = (e: Event) => {
      e.preventDefault();
      onClose();
    };
    dialog.addEventListener('cancel', cancel);
    return () => {
      dialog.removeEventListener('cancel', cancel);
      if (dialog.open) dialog.close();
      if (opener && opener.isConnected) opener.focus();
    };
  }, []);
  return (
    <dialog ref={ref} aria-labelledby={titleId} class="dialog">
      <h2 id={titleId}>{title}</h2>
      <div class="dialog-body">{children}</div>
      {footer && <div class="dialog-foot">{footer}</div>}
    </dialog>
  );
}

/** A form dialog's buttons: Cancel, and the submit button named `action`. */
export function FormDialogFoot({ action, onCancel }: { action: string; onCancel: () => void }) {
  return (
    <div class="dialog-foot">
      <button type="button" onClick={onCancel}>
        Cancel
      </button>
      <button type="submit" class="primary">
        {action}
      </button>
    </div>
  );
}

export function Confirm({
  title,
  message,
  action,
  onConfirm,
  onClose,
}: {
  title: string;
  message: string;
  action: string;
  onConfirm: () => Promise<void>;
  onClose: () => void;
}) {
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <Dialog
      title={title}
      onClose={onClose}
      footer={
        <>
          <button type="button" onClick={onClose}>
            Cancel
          </button>
          <button
            type="button"
            class="danger"
            disabled={busy}
            onClick={async () => {
              setBusy(true);
              try {
                await onConfirm();
              } catch (e) {
                setError(messageOf(e));
                setBusy(false);
              }
            }}
          >
            {action}
          </button>
        </>
      }
    >
      <p>{message}</p>
      {error && <ErrorNote message={error} />}
    </Dialog>
  );
}

/** A secret shown once, with a Copy button: closing the dialog loses it. */
export function SecretOnce({ title, label, secret, onClose }: { title: string; label: string; secret: string; onClose: () => void }) {
  const [copied, setCopied] = useState<string | null>(null);
  const input = useRef<HTMLInputElement>(null);
  const noteId = useId();
  return (
    <Dialog
      title={title}
      onClose={onClose}
      footer={
        <button type="button" class="primary" onClick={onClose}>
          Close
        </button>
      }
    >
      <p id={noteId}>Copy it and store it securely now: it will not be shown again.</p>
      <label for={`${noteId}-v`}>{label}</label>
      <div class="copy-row">
        <input id={`${noteId}-v`} ref={input} readOnly value={secret} aria-describedby={noteId} class="mono" />
        <button
          type="button"
          onClick={async () => {
            try {
              await navigator.clipboard.writeText(secret);
              setCopied('Copied to the clipboard');
            } catch {
              input.current?.select();
              setCopied('Selected: press Ctrl+C (⌘C) to copy');
            }
          }}
        >
          Copy
        </button>
      </div>
      <p role="status" class="hint">
        {copied ?? ''}
      </p>
    </Dialog>
  );
}

export function messageOf(e: unknown): string {
  if (e instanceof ApiError) return e.message;
  return e instanceof Error ? e.message : String(e);
}

export function ErrorNote({ message, id }: { message: string; id?: string }) {
  return (
    <p class="error" role="alert" id={id}>
      {message}
    </p>
  );
}

/** A labelled input whose error is tied to it by aria-describedby. */
export function Field({
  label,
  error,
  hint,
  ...input
}: { label: string; error?: string | null; hint?: string } & InputHTMLAttributes<HTMLInputElement>) {
  const id = useId();
  const described = [hint ? `${id}-hint` : '', error ? `${id}-err` : ''].filter(Boolean).join(' ') || undefined;
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <input id={id} aria-invalid={error ? true : undefined} aria-describedby={described} {...input} />
      {hint && (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      )}
      {error && (
        <p class="error" id={`${id}-err`} role="alert">
          {error}
        </p>
      )}
    </div>
  );
}

export function Select({
  label,
  value,
  options,
  onChange,
}: {
  label: string;
  value: string;
  options: [string, string][];
  onChange: (v: string) => void;
}) {
  const id = useId();
  return (
    <div class="field">
      <label for={id}>{label}</label>
      <select id={id} value={value} onChange={(e) => onChange((e.target as HTMLSelectElement).value)}>
        {options.map(([v, text]) => (
          <option key={v} value={v}>
            {text}
          </option>
        ))}
      </select>
    </div>
  );
}

/** A table that scrolls sideways inside its own labelled, focusable region on a narrow screen. */
export function Table({ label, head, children }: { label: string; head: string[]; children: ComponentChildren }) {
  return (
    <div class="table-wrap" role="region" aria-label={label} tabIndex={0}>
      <table>
        <thead>
          <tr>
            {head.map((h) => (
              <th key={h} scope="col">
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

export function Status({ active, on = 'Active', off = 'Revoked' }: { active: boolean; on?: string; off?: string }) {
  return <span class={`badge ${active ? 'ok' : 'off'}`}>{active ? on : off}</span>;
}

/** The "…" menu of a details page's header: a disclosure of action buttons. */
export function ActionMenu({ children }: { children: ComponentChildren }) {
  const [open, setOpen] = useState(false);
  const id = useId();
  const root = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const away = (e: Event) => {
      if (!root.current?.contains(e.target as Node)) setOpen(false);
    };
    const esc = (e: KeyboardEvent) => {
      if (e.key === 'Escape') setOpen(false);
    };
    document.addEventListener('click', away);
    document.addEventListener('keydown', esc);
    return () => {
      document.removeEventListener('click', away);
      document.removeEventListener('keydown', esc);
    };
  }, [open]);
  return (
    <div class="menu" ref={root}>
      <button type="button" aria-expanded={open} aria-controls={id} aria-label="Actions" onClick={() => setOpen(!open)}>
        <span aria-hidden="true">⋯</span>
      </button>
      <div id={id} class="menu-list" hidden={!open} onClick={() => setOpen(false)}>
        {children}
      </div>
    </div>
  );
}

export function Loading() {
  return (
    <p class="hint" role="status">
      Loading…
    </p>
  );
}

export const when = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString() : '—');

/** Load data for a page; `reload` fetches again after a change. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): { data: T | null; error: string | null; reload: () => void } {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    load().then(
      (d) => {
        if (live) {
          setData(d);
          setError(null);
        }
      },
      (e) => {
        if (live) setError(messageOf(e));
      },
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return { data, error, reload: () => setTick((t) => t + 1) };
}
