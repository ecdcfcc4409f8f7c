import { useEffect, useState } from 'preact/hooks';

/** Client-side routes under /app: the History API, no library. */

const listeners = new Set<() => void>();

export function navigate(path: string): void {
  if (path !== location.pathname + location.search) history.pushState(null, '', path);
  listeners.forEach((fn) => fn());
}

export function usePath(): string {
  const [path, setPath] = useState(location.pathname);
  useEffect(() => {
    const update = () => setPath(location.pathname);
    listeners.add(update);
    addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      removeEventListener('popstate', update);
    };
  }, []);
  return path;
}

/** A left click without modifier keys on a same-app link: handled here instead of loading a page. */
export function followLink(e: MouseEvent, href: string): void {
  if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  navigate(href);
}
