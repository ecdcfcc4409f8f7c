import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import axe from 'axe-core';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

/** Debian's Chromium, driven by playwright-core (nothing downloaded). */
export const CHROMIUM = '/usr/bin/chromium';
export const chromiumMissing = existsSync(CHROMIUM) ? false : 'Debian chromium is not installed';
/** Where screenshots go (CI keeps the folder as an artifact; git ignores it). */
export const ARTIFACTS = 'test-artifacts/console';

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
}

export interface StrictPage {
  page: Page;
  context: BrowserContext;
  /** Let the next responses of `url` (a substring or pattern) answer `status` without failing the test. */
  expect(url: string | RegExp, status: number): void;
  /** Every console error, page error, failed request and unexpected status >= 400 seen so far. */
  problems: string[];
  /** Resolves once no request of the page has been in flight for a moment (a fetch started by a click included). */
  idle(): Promise<void>;
  /** Fails the test if anything went wrong in the page, then closes its context. */
  close(): Promise<void>;
}

/**
 * A page in a new context (cookies of its own) that records every console error, uncaught page
 * error, failed request and response >= 400 the test did not announce with `expect`. Chrome's own
 * "Failed to load resource" console line duplicates a response status: the status check decides.
 */
export async function strictPage(
  browser: Browser,
  baseURL: string,
  opts: { width?: number; scheme?: 'light' | 'dark' } = {},
): Promise<StrictPage> {
  const context = await browser.newContext({
    baseURL,
    viewport: { width: opts.width ?? 1280, height: 900 },
    colorScheme: opts.scheme ?? 'light',
  });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: baseURL });
  const page = await context.newPage();
  const problems: string[] = [];
  const allowed: { url: string | RegExp; status: number }[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(`console error: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  // Requests in flight, so a test can let the page's own calls finish before it navigates away:
  // Playwright's 'networkidle' load state does not cover fetches made after the document loaded.
  const inFlight = new Set<unknown>();
  page.on('request', (r) => inFlight.add(r));
  page.on('requestfinished', (r) => inFlight.delete(r));
  page.on('requestfailed', (r) => inFlight.delete(r));
  page.on('requestfailed', (r) => {
    // A download the page started (the audit export) is handed to the browser, not failed.
    if (r.failure()?.errorText === 'net::ERR_ABORTED' && r.url().includes('/export')) return;
    problems.push(`request failed: ${r.method()} ${r.url()} ${r.failure()?.errorText}`);
  });
  page.on('response', (r) => {
    if (r.status() < 400) return;
    const ok = allowed.some((a) => a.status === r.status() && (typeof a.url === 'string' ? r.url().includes(a.url) : a.url.test(r.url())));
    if (!ok) problems.push(`unexpected ${r.status()}: ${r.request().method()} ${r.url()}`);
  });
  return {
    page,
    context,
    problems,
    expect: (url, status) => allowed.push({ url, status }),
    idle: () => waitUntilIdle(inFlight),
    async close() {
      // A call still running when the context closes would fail as aborted: let it answer first.
      await waitUntilIdle(inFlight);
      await context.close();
      assert.deepEqual(problems, [], 'the page had errors');
    },
  };
}

/** Waits until `inFlight` has stayed empty for 250 ms (15 s at most, then the test's own checks decide). */
async function waitUntilIdle(inFlight: Set<unknown>): Promise<void> {
  const deadline = Date.now() + 15_000;
  let quietSince = Date.now();
  while (Date.now() < deadline) {
    if (inFlight.size > 0) quietSince = Date.now();
    else if (Date.now() - quietSince >= 250) return;
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** axe-core (WCAG 2.0/2.1 A and AA) on the page as it is now: no serious or critical violation. */
export async function assertAccessible(page: Page, what: string): Promise<void> {
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(axe.source);
  const result = await page.evaluate(() =>
    (window as unknown as { axe: typeof axe }).axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa'] } }),
  );
  const bad = result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
  assert.deepEqual(bad, [], `accessibility violations on ${what}`);
}

/** test-artifacts/console/<name>-<width>-<scheme>.png */
export async function screenshot(page: Page, name: string, width: number, scheme: 'light' | 'dark'): Promise<void> {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: `${ARTIFACTS}/${name}-${width}-${scheme}.png`, fullPage: true });
}

/** Sign in through the console's own form (the console first asks who is signed in: 401 until someone is). */
export async function signIn(sp: StrictPage, email: string, password: string): Promise<void> {
  const { page } = sp;
  sp.expect('/admin/users/me', 401);
  await page.goto('/app');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('button', { name: 'Sign out' }).waitFor();
  // The landing page's own calls (the overview) finish before the test navigates elsewhere.
  await sp.idle();
}
