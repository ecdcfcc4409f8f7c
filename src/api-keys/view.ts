import type { ApiKeyRecord, ApiKeys } from './api-keys.ts';
import type { SalesChannels } from './sales-channels.ts';

/**
 * Medusa's `api_key` shape for records (the admin routes and the CLI print the same thing).
 * `clearTokens` holds tokens to show once (create, roll); otherwise a secret key's token is "".
 */
export async function apiKeyViews(
  deps: { apiKeys: ApiKeys; salesChannels: SalesChannels },
  records: ApiKeyRecord[],
  clearTokens: Map<string, string> = new Map(),
) {
  const channelIds = [...new Set(records.flatMap((k) => k.sales_channel_ids))];
  const [{ found }, used] = await Promise.all([deps.salesChannels.resolve(channelIds), deps.apiKeys.lastUsed(records.map((k) => k.id))]);
  const names = new Map(found.map((c) => [c.id, c.name]));
  return records.map((k) => ({
    id: k.id,
    title: k.title,
    token: clearTokens.get(k.id) ?? k.token,
    redacted: k.redacted,
    type: k.type,
    scopes: k.scopes,
    sales_channels: k.sales_channel_ids.filter((c) => names.has(c)).map((c) => ({ id: c, name: names.get(c)! })),
    expires_at: k.expires_at,
    rate_limit: k.rate_limit,
    last_used_at: used.get(k.id) ?? null,
    created_by: k.created_by,
    created_at: k.created_at,
    updated_at: k.updated_at,
    revoked_at: k.revoked_at,
    revoked_by: k.revoked_by,
    deleted_at: null,
  }));
}
