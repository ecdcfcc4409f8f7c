import assert from 'node:assert/strict';

/**
 * A minimal browser for driving the login and consent pages over HTTP: a cookie jar and manual
 * redirects, so each hop can be inspected. Cookies are kept by name (paths ignored: the flow's
 * cookies have distinct names).
 */
export class Browser {
  readonly jar = new Map<string, string>();

  async request(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.jar.size) headers.set('cookie', [...this.jar].map(([k, v]) => `${k}=${v}`).join('; '));
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const name = pair!.slice(0, pair!.indexOf('=')).trim();
      const value = pair!.slice(pair!.indexOf('=') + 1).trim();
      const expired = attrs.some((a) => /^\s*expires=/i.test(a) && Date.parse(a.split('=')[1]!) <= Date.now()) || value === '';
      if (expired) this.jar.delete(name);
      else this.jar.set(name, value);
    }
    return res;
  }

  /** Follow redirects from `url` until a page (non-3xx) or a URL starting with `stopAt`; returns the last response and its URL. */
  async follow(url: string, stopAt: string, init: RequestInit = {}): Promise<{ url: string; res: Response; html: string }> {
    let current = url;
    let res = await this.request(current, init);
    for (let hops = 0; hops < 10 && res.status >= 300 && res.status < 400; hops++) {
      const location = res.headers.get('location');
      assert.ok(location, 'redirect without Location');
      current = new URL(location, current).href;
      if (current.startsWith(stopAt)) return { url: current, res, html: '' };
      res = await this.request(current);
    }
    return { url: current, res, html: await res.text() };
  }

  /** Submit the form whose action contains `actionPart` on `html` (hidden fields included) with extra fields. */
  async submit(pageUrl: string, html: string, actionPart: string, fields: Record<string, string>, stopAt: string) {
    const form = formOf(html, actionPart);
    const body = new URLSearchParams({ ...form.hidden, ...fields });
    return this.follow(new URL(form.action, pageUrl).href, stopAt, {
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
  }
}

export function formOf(html: string, actionPart: string): { action: string; hidden: Record<string, string> } {
  const forms = [...html.matchAll(/<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/g)];
  const match = forms.find((m) => m[1]!.includes(actionPart));
  assert.ok(match, `no form with action containing ${actionPart} in:\n${html}`);
  const hidden: Record<string, string> = {};
  for (const input of match[2]!.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)"/g))
    hidden[input[1]!] = input[2]!.replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n)));
  return { action: match[1]!.replace(/&#(\d+);/g, (_, n) => String.fromCharCode(Number(n))), hidden };
}
