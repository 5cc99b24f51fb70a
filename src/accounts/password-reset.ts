import type { UserRow } from '../db/queries/users';
import type { CodePurpose } from '../mail/messages';
import type { Services } from '../services';
import { AccountCodes, type AccountCodeServices } from './verification-codes';

/** The purpose of reset codes; a new password, however set, ends the live one. */
export const RESET_PURPOSE: CodePurpose = 'reset_password';

/** Who forgot their password: a username, or an address (every account with it gets a code). */
export type ResetIdentifier = { readonly username: string } | { readonly email: string };

/** SPEC §8 password reset by a mailed code; a reset ends every session of the account. */
export class PasswordReset {
  private readonly codes: AccountCodes;

  constructor(private readonly services: AccountCodeServices & Pick<Services, 'users'>) {
    this.codes = new AccountCodes(services);
  }

  /** Mails a code to each enabled account that matches; the caller learns nothing either way. */
  async request(identifier: ResetIdentifier): Promise<void> {
    const { users, tenantId } = this.services;
    const found: Array<UserRow | undefined> =
      'username' in identifier ? [await users.queries.findByUsername(tenantId, identifier.username)] : await users.queries.listByEmail(tenantId, identifier.email);
    for (const user of found) if (user && !user.disabled) await this.codes.send(user, RESET_PURPOSE);
  }

  /** Sets the new password when the code is right, and revokes every session (their sockets close with 4003); `client` as in AccountCodes.redeem. */
  async reset(username: string, code: string, newPassword: string, client: string): Promise<void> {
    const { users, tenantId } = this.services;
    const user = await users.queries.findByUsername(tenantId, username);
    const verified = await this.codes.redeem(user?.disabled ? undefined : user, RESET_PURPOSE, code, client);
    await users.setPassword(verified, newPassword);
    // The code was mailed to the account's address, so whoever holds it reads that mail.
    if (verified.email !== null) await users.queries.update(tenantId, verified.id, { email_verified_at: this.services.clock() });
  }
}
