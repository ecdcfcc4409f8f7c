import { z } from 'zod';
import type { Account, ActorType } from '../accounts/accounts.ts';
import { InvalidTokenError } from '../errors.ts';
import type { Principal } from '../principal/principal.ts';
import type { Services } from '../services.ts';

/** What the Medusa surfaces (/admin, /store, /auth) share: body and answer shapes, and how an actor is read. */

export const userSchema = z
  .object({
    id: z.string().meta({ examples: ['user_01JD3X9Q5T6V7W8X9Y0Z1A2B3C'] }),
    email: z.string().meta({ examples: ['admin@example.com'] }),
    first_name: z.string().nullable(),
    last_name: z.string().nullable(),
    role: z.enum(['admin', 'member', 'developer']).describe('What the user may do in the back office'),
    disabled: z.boolean().describe('A disabled account cannot sign in, and its API keys are refused until it is enabled'),
    metadata: z.record(z.string(), z.unknown()).nullable(),
    created_at: z.string(),
    updated_at: z.string(),
  })
  .meta({ id: 'User', description: 'A back-office user' });
export const customerSchema = userSchema.omit({ role: true }).meta({ id: 'Customer', description: 'A storefront customer' });
const medusaErrorSchema = z
  .object({
    type: z
      .string()
      .describe("Medusa's error type")
      .meta({ examples: ['not_found'] }),
    message: z.string(),
  })
  .meta({ id: 'MedusaError', description: 'An error on /admin, /store and /auth, as Medusa writes it' });
export const medusaErr = (description: string) => ({ description, schema: medusaErrorSchema });

/** The body of the password logins /admin/auth/token and /store/auth/token. */
export const passwordLoginBody = z
  .object({
    email: z
      .string()
      .min(1)
      .max(320)
      .meta({ examples: ['admin@example.com'] }),
    password: z.string().min(1).max(1024),
  })
  .meta({ id: 'PasswordLogin' });

export function userView(a: Account) {
  return {
    id: a.id,
    email: a.email,
    first_name: a.first_name,
    last_name: a.last_name,
    role: a.role ?? 'member',
    disabled: a.disabled ?? false,
    metadata: a.metadata ?? null,
    created_at: a.created_at,
    updated_at: a.updated_at,
  };
}
export function customerView(a: Account) {
  return {
    id: a.id,
    email: a.email,
    first_name: a.first_name,
    last_name: a.last_name,
    disabled: a.disabled ?? false,
    metadata: a.metadata ?? null,
    created_at: a.created_at,
    updated_at: a.updated_at,
  };
}

/** A registration token's principal (no actor yet), as opposed to a logged-in actor's. */
export const isRegistrationPrincipal = (p: Principal) => p.kind === 'registration';

/** The account behind a logged-in actor principal (JWT or session), or 401. */
export async function actorAccount(s: Services, p: Principal, actorType: ActorType): Promise<Account> {
  if (p.kind !== actorType) throw new InvalidTokenError();
  const account = await s.accounts.active(p.id);
  if (!account || account.actor_type !== actorType) throw new InvalidTokenError();
  return account;
}
