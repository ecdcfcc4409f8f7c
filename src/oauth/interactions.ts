import { interactionPolicy, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import { actorTypeOfAccount, loginActorOf } from './login-actor.ts';

export const INTERACTION_PATH = '/oauth/interaction';

const { base, Check } = interactionPolicy;

/**
 * Login and consent happen on our pages (src/http/oauth/pages.ts) under /oauth/interaction/:uid, with the
 * library's policy (log in when there is no session, ask for consent when the remembered grant
 * lacks a requested scope, so a remembered grant skips the consent page) plus one check: the
 * signed-in account must be of the kind the client signs in. A customer's session at a back-office
 * client (or the reverse) means: sign in again, as the right kind of account (the library then
 * ends the other account's session, and with it what apps got through it, before going on).
 */
export function interactionsConfiguration(): NonNullable<Configuration['interactions']> {
  const policy = base();
  policy.get('login')!.checks.add(
    new Check(
      'login_actor',
      'the signed-in account is not of the kind this client signs in',
      'login_required',
      (ctx: KoaContextWithOIDC) => {
        const accountId = ctx.oidc.session?.accountId;
        if (!accountId) return Check.NO_NEED_TO_PROMPT;
        return actorTypeOfAccount(accountId) === loginActorOf(ctx.oidc.client) ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT;
      },
    ),
  );
  return {
    policy,
    url: async (_ctx, interaction) => `${INTERACTION_PATH}/${interaction.uid}`,
  };
}
