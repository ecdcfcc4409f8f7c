import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAccounts, DuplicateEmailError } from '../../src/accounts/accounts.ts';
import { assertPasswordPolicy, passwordPolicyViolation, WeakPasswordError } from '../../src/accounts/password-policy.ts';
import { createPasswordHasher } from '../../src/accounts/passwords.ts';
import { currentStanding, lowerRole } from '../../src/accounts/standing.ts';
import { createMemoryStore } from '../../src/store/memory.ts';
import { ROLE_SCOPES } from '../helpers/units.ts';

const passwords = createPasswordHasher();
const newAccounts = () => createAccounts({ store: createMemoryStore(), passwords });

describe('accounts', () => {
  it('creates users with a role (member by default) and customers without one, never showing the password hash', async () => {
    const accounts = newAccounts();
    const user = await accounts.create({
      actorType: 'user',
      email: '  Ada@Example.COM ',
      password: 'correct horse battery',
      firstName: 'Ada',
    });
    assert.match(user.id, /^user_[0-9A-Z]{26}$/);
    assert.equal(user.email, 'ada@example.com');
    assert.equal(user.role, 'member');
    assert.equal(user.first_name, 'Ada');
    assert.equal(user.last_name, null);
    assert.ok(!('password_hash' in user));
    const customer = await accounts.create({ actorType: 'customer', email: 'c@example.com', role: 'admin' });
    assert.match(customer.id, /^cus_/);
    assert.equal(customer.role, undefined, 'a customer never holds a back-office role');
    assert.deepEqual(await accounts.get(user.id), user);
    assert.ok(!('password_hash' in (await accounts.get(user.id))!));
  });

  it('keeps emails unique per actor type, ignoring case, even under concurrent sign-ups', async () => {
    const accounts = newAccounts();
    await accounts.create({ actorType: 'user', email: 'dup@example.com' });
    await assert.rejects(
      accounts.create({ actorType: 'user', email: 'DUP@example.com' }),
      (err: Error) => err instanceof DuplicateEmailError && (err as DuplicateEmailError).status === 409,
    );
    assert.ok(await accounts.create({ actorType: 'customer', email: 'dup@example.com' }), 'a customer may share a user email');
    const race = await Promise.allSettled(
      Array.from({ length: 5 }, () => accounts.create({ actorType: 'customer', email: 'race@example.com' })),
    );
    assert.equal(race.filter((r) => r.status === 'fulfilled').length, 1);
    assert.equal((await accounts.list('customer', { offset: 0, limit: 10 })).count, 2);
  });

  it('authenticates by actor type, email and password, and answers null for anything wrong', async () => {
    const accounts = newAccounts();
    const user = await accounts.create({ actorType: 'user', email: 'login@example.com', password: 'correct horse battery' });
    assert.equal((await accounts.authenticate('user', 'LOGIN@example.com', 'correct horse battery'))?.id, user.id);
    assert.equal(await accounts.authenticate('user', 'login@example.com', 'wrong horse battery'), null);
    assert.equal(await accounts.authenticate('customer', 'login@example.com', 'correct horse battery'), null);
    assert.equal(await accounts.authenticate('user', 'nobody@example.com', 'correct horse battery'), null);
    const noPassword = await accounts.create({ actorType: 'user', email: 'nopass@example.com' });
    assert.equal(await accounts.authenticate('user', noPassword.email, ''), null, 'an account without a password cannot log in with one');
  });

  it('applies the password policy on create, update and replace, changing nothing when it refuses', async () => {
    const accounts = newAccounts();
    await assert.rejects(accounts.create({ actorType: 'user', email: 'weak@example.com', password: 'short' }), WeakPasswordError);
    assert.equal(await accounts.findByEmail('user', 'weak@example.com'), null, 'the refused sign-up left no account and no claimed email');
    const user = await accounts.create({ actorType: 'user', email: 'weak@example.com', password: 'correct horse battery' });
    await assert.rejects(accounts.update(user.id, { password: 'password', first_name: 'X' }), WeakPasswordError);
    assert.equal((await accounts.get(user.id))?.first_name, null);
    const stamp = (await accounts.passwordStamp(user.id))!;
    await assert.rejects(accounts.replacePassword(user.id, '12345678', stamp), WeakPasswordError);
    assert.ok(await accounts.authenticate('user', user.email, 'correct horse battery'));
  });

  it('updates names, role and password', async () => {
    const accounts = newAccounts();
    const user = await accounts.create({ actorType: 'user', email: 'upd@example.com', password: 'correct horse battery' });
    const updated = await accounts.update(user.id, { first_name: 'Grace', role: 'admin', password: 'another good password' });
    assert.equal(updated?.first_name, 'Grace');
    assert.equal(updated?.role, 'admin');
    assert.equal(updated?.created_at, user.created_at);
    assert.equal(await accounts.authenticate('user', user.email, 'correct horse battery'), null);
    assert.ok(await accounts.authenticate('user', user.email, 'another good password'));
    assert.equal(await accounts.update('user_missing', { first_name: 'X' }), null);
  });

  it('replaces a password only against the stamp it was issued for: a changed password kills older stamps', async () => {
    const accounts = newAccounts();
    const user = await accounts.create({ actorType: 'customer', email: 'stamp@example.com', password: 'correct horse battery' });
    const first = (await accounts.passwordStamp(user.id))!;
    assert.ok(await accounts.replacePassword(user.id, 'second good password', first));
    const second = (await accounts.passwordStamp(user.id))!;
    assert.notEqual(second, first, 'the stamp changes with the password');
    assert.equal(await accounts.replacePassword(user.id, 'third good password', first), null, 'a stale stamp replaces nothing');
    assert.ok(await accounts.authenticate('customer', user.email, 'second good password'));
    assert.equal(await accounts.replacePassword('cus_missing', 'third good password', second), null);
    assert.equal(await accounts.passwordStamp('cus_missing'), null);
  });

  it('lists accounts of one actor type page by page, with the total', async () => {
    const accounts = newAccounts();
    for (let i = 0; i < 5; i++) await accounts.create({ actorType: 'user', email: `u${i}@example.com` });
    await accounts.create({ actorType: 'customer', email: 'c@example.com' });
    const page = await accounts.list('user', { offset: 1, limit: 2 });
    assert.equal(page.count, 5);
    assert.equal(page.accounts.length, 2);
    assert.ok(page.accounts.every((a) => a.actor_type === 'user'));
  });
});

describe('the password policy', () => {
  it('wants 8 to 1,024 characters, counted as characters rather than UTF-16 units', () => {
    assert.match(passwordPolicyViolation('1234567')!, /at least 8/);
    assert.match(passwordPolicyViolation('🔑'.repeat(7))!, /at least 8/, 'seven emoji are seven characters');
    assert.equal(passwordPolicyViolation('🔑'.repeat(8)), null);
    assert.equal(passwordPolicyViolation('x'.repeat(1024)), null);
    assert.match(passwordPolicyViolation('x'.repeat(1025))!, /at most 1024/);
  });

  it('refuses the most common passwords, whatever their case', () => {
    for (const common of ['password', 'PASSWORD', '12345678', 'qwertyuiop', 'Sunshine']) {
      assert.throws(
        () => assertPasswordPolicy(common),
        (err: Error) => err instanceof WeakPasswordError && (err as WeakPasswordError).status === 400 && /commonly used/.test(err.message),
        common,
      );
    }
    assert.doesNotThrow(() => assertPasswordPolicy('tangerine-bicycle-orbit'));
  });
});

describe('standing: what a sign-in may hold now', () => {
  const account = (role?: 'admin' | 'developer' | 'member', actorType: 'user' | 'customer' = 'user') => ({
    id: 'x',
    actor_type: actorType,
    email: 'x@example.com',
    first_name: null,
    last_name: null,
    role,
    created_at: '',
    updated_at: '',
  });

  it('takes the lower of the granted role and the account current role', () => {
    assert.equal(lowerRole('admin', 'member'), 'member');
    assert.equal(lowerRole('member', 'admin'), 'member');
    assert.equal(lowerRole('developer', 'admin'), 'developer');
    assert.deepEqual(currentStanding(account('member'), { role: 'admin', scopes: ['read', 'write', 'admin'] }, ROLE_SCOPES), {
      role: 'member',
      scopes: ['read'],
    });
    assert.deepEqual(
      currentStanding(account('admin'), { role: 'member', scopes: ['read'] }, ROLE_SCOPES),
      { role: 'member', scopes: ['read'] },
      'a promotion does not widen a sign-in',
    );
  });

  it('never adds a scope the sign-in was not granted', () => {
    assert.deepEqual(currentStanding(account('admin'), { role: 'admin', scopes: ['read'] }, ROLE_SCOPES), {
      role: 'admin',
      scopes: ['read'],
    });
    assert.deepEqual(
      currentStanding(account('admin'), { scopes: ['read', 'write'] }, ROLE_SCOPES),
      { role: 'member', scopes: ['read'] },
      'no granted role counts as member',
    );
  });

  it('gives customers the customer scopes at most, and no role', () => {
    assert.deepEqual(currentStanding(account(undefined, 'customer'), { role: 'admin', scopes: ['read', 'write', 'admin'] }, ROLE_SCOPES), {
      scopes: ['read', 'write'],
    });
  });
});
