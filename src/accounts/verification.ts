import { createPendingVerificationQueries } from '../db/queries/pending-verifications';
import type { UserRow } from '../db/queries/users';
import type { Services } from '../services';
import { AccountCodes, type AccountCodeServices } from './verification-codes';

const PURPOSE = 'verify_email';

/**
 * SPEC §8 e-mail verification: with REQUIRE_EMAIL_VERIFICATION on, an account
 * signed up with an address is held until the mailed code comes back.
 */
export class EmailVerification {
  private readonly pending: ReturnType<typeof createPendingVerificationQueries>;
  private readonly codes: AccountCodes;

  constructor(private readonly services: AccountCodeServices & Pick<Services, 'users'>) {
    this.pending = createPendingVerificationQueries(services.db);
    this.codes = new AccountCodes(services);
  }

  /** Holds a new account and mails its code. */
  async begin(user: UserRow): Promise<void> {
    await this.pending.insert(this.services.tenantId, user.id, this.services.clock());
    await this.codes.send(user, PURPOSE);
  }

  /** Mails a new code to a held account; does nothing (and says nothing) for any other name. */
  async resend(username: string): Promise<void> {
    const user = await this.services.users.queries.findByUsername(this.services.tenantId, username);
    if (user && (await this.pending.exists(this.services.tenantId, user.id))) await this.codes.send(user, PURPOSE);
  }

  /** Releases the account when the code is its live one; else `invalid_code`. `client` as in AccountCodes.redeem. */
  async verify(username: string, code: string, client: string): Promise<void> {
    const user = await this.services.users.queries.findByUsername(this.services.tenantId, username);
    const verified = await this.codes.redeem(user, PURPOSE, code, client);
    await this.pending.remove(this.services.tenantId, verified.id);
    await this.services.users.queries.update(this.services.tenantId, verified.id, { email_verified_at: this.services.clock() });
  }

  /** True while the account may not sign in: held, and verification is still required. */
  async isPending(user: UserRow): Promise<boolean> {
    return this.services.config.requireEmailVerification && this.pending.exists(this.services.tenantId, user.id);
  }
}
