import type { Logger } from '../logger.ts';

const WEBHOOK_TIMEOUT_MS = 5000;

/**
 * Pushes an event to NOTIFY_WEBHOOK_URL as `{event, data}`, fire and forget: the webhook is a
 * convenience next to the streams, so a slow or failing receiver never delays or fails a request.
 */
export function createWebhookNotifier(deps: { url: string | undefined; logger: Logger }) {
  const { url, logger } = deps;
  return (name: string, data: Record<string, unknown>): void => {
    if (!url) return;
    void fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ event: name, data }),
      signal: AbortSignal.timeout(WEBHOOK_TIMEOUT_MS),
    }).then(
      (res) => {
        if (!res.ok) logger.warn({ event: name, status: res.status }, 'notify webhook refused the event');
      },
      (err: unknown) => logger.warn({ event: name, error: (err as Error).name }, 'notify webhook unreachable'),
    );
  };
}
