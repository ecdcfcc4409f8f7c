import type { Configuration } from 'oidc-provider';

export const INTERACTION_PATH = '/oauth/interaction';

/**
 * Login and consent happen on our pages (pages.ts) under /oauth/interaction/:uid, with the
 * library's default policy: log in when there is no session, ask for consent when the
 * remembered grant lacks a requested scope (so a remembered grant skips the consent page).
 */
export function interactionsConfiguration(): NonNullable<Configuration['interactions']> {
  return {
    url: async (_ctx, interaction) => `${INTERACTION_PATH}/${interaction.uid}`,
  };
}
