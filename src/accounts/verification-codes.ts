import { createHash, randomInt } from 'node:crypto';
import { createAccountCodeQueries } from '../db/queries/account-codes';
import type { UserRow } from '../db/queries/users';
import { invalidCode } from '../errors';
import { codeMail, type CodePurpose } from '../mail/messages';
import type { Services } from '../services';

/** Tries one e-mailed code allows before it is dead (SPEC §8). */
export const CODE_ATTEMPTS = 5;
// One code per minute and purpose at most reaches an inbox, however often it is asked for.
const RESEND_INTERVAL_MS = 60_000;

/**
 * The stored form of a short secret (codes, recovery codes, mfa tokens): SHA-256 over its
 * parts, salted with the owner's id. Short codes rely on expiry and attempt limits, not on the hash.
 */
export const hashSecret = (...parts: string[]): string => createHash('sha256').update(parts.join('\0')).digest('hex');

const newCode = () => String(randomInt(0, 1_000_000)).padStart(6, '0');

export type AccountCodeServices = Pick<Services, 'db' | 'tenantId' | 'clock' | 'config' | 'mailer'>;

/** Six-digit codes mailed to an account's address: stored hashed, live `ACCOUNT_CODE_TTL`, `CODE_ATTEMPTS` tries. */
export class AccountCodes {
  private readonly queries: ReturnType<typeof createAccountCodeQueries>;

  constructor(private readonly services: AccountCodeServices) {
    this.queries = createAccountCodeQueries(services.db);
  }

  /** Mails a new code for `purpose` (the earlier one stops working), unless one went out within the last minute. */
  async send(user: UserRow, purpose: CodePurpose): Promise<void> {
    if (!user.email) return;
    const { clock, config, mailer } = this.services;
    const now = clock();
    const key = this.key(user, purpose);
    const last = await this.queries.find(key);
    if (last && now - last.created_at < RESEND_INTERVAL_MS) return;
    await this.queries.deleteExpired(now);
    const code = newCode();
    await this.queries.replace({ ...key, code_hash: hashSecret(user.id, purpose, code), attempts: 0, created_at: now, expires_at: now + config.accountCodeTtl * 1000 });
    mailer.send(codeMail(purpose, user.email, user.username, code, config.accountCodeTtl));
  }

  /** Uses up the user's live code for `purpose` and returns the user; throws `invalid_code` for anything else (no user included). */
  async redeem(user: UserRow | undefined, purpose: CodePurpose, code: string): Promise<UserRow> {
    if (!user) throw invalidCode();
    const key = this.key(user, purpose);
    if (!(await this.queries.spendAttempt(key, CODE_ATTEMPTS, this.services.clock()))) throw invalidCode();
    if (!(await this.queries.consume(key, hashSecret(user.id, purpose, code)))) throw invalidCode();
    return user;
  }

  private key(user: UserRow, purpose: CodePurpose) {
    return { tenant_id: this.services.tenantId, user_id: user.id, purpose };
  }
}
