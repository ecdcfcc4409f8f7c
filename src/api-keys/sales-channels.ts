import { newId } from '../ids.ts';
import { keys } from '../store/keys.ts';
import type { Store } from '../store/port.ts';

export interface SalesChannel {
  id: string;
  name: string;
  description: string | null;
  is_disabled: boolean;
  created_at: string;
  updated_at: string;
  deleted_at: null;
}

/**
 * The minimal sales channels publishable keys link to (Medusa's `sc_` records): enough for a
 * storefront key to carry the channels it sells through.
 */
export function createSalesChannels(deps: { store: Store }) {
  const { store } = deps;

  async function get(id: string): Promise<SalesChannel | null> {
    const raw = await store.get(keys.salesChannel(id));
    return raw ? (JSON.parse(raw) as SalesChannel) : null;
  }

  return {
    get,
    async create(input: { name: string; description?: string | null; is_disabled?: boolean }): Promise<SalesChannel> {
      const now = new Date().toISOString();
      const channel: SalesChannel = {
        id: `sc_${newId()}`,
        name: input.name,
        description: input.description ?? null,
        is_disabled: input.is_disabled ?? false,
        created_at: now,
        updated_at: now,
        deleted_at: null,
      };
      await store.put(keys.salesChannel(channel.id), JSON.stringify(channel));
      await store.indexAdd(keys.salesChannelIndex(), channel.id, Date.parse(now));
      return channel;
    },
    async list(page: { offset: number; limit: number }): Promise<{ sales_channels: SalesChannel[]; count: number }> {
      const [ids, count] = await Promise.all([
        store.indexRange(keys.salesChannelIndex(), page),
        store.indexCount(keys.salesChannelIndex()),
      ]);
      const loaded = await Promise.all(ids.map(get));
      return { sales_channels: loaded.filter((c): c is SalesChannel => c !== null), count };
    },
    /** The channels among `ids` that exist, in the order asked; unknown ids are reported apart. */
    async resolve(ids: string[]): Promise<{ found: SalesChannel[]; missing: string[] }> {
      const loaded = await Promise.all(ids.map(get));
      return {
        found: loaded.filter((c): c is SalesChannel => c !== null),
        missing: ids.filter((_, i) => loaded[i] === null),
      };
    },
  };
}
export type SalesChannels = ReturnType<typeof createSalesChannels>;
