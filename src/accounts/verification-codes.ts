import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import { createAccountCodeQueries } from '../db/queries/account-codes';
import type { UserRow } from '../db/queries/users';
import { invalidCode } from '../errors';
import { codeMail, type CodePurpose } from '../mail/messages';
import type { Services } from '../services';

/** Tries one e-mailed code allows before it is dead (SPEC §8). */
export const CODE_ATTEMPTS = 5;
/**
 * Tries one account allows per purpose in a day, over every code it is mailed: without it each new
 * code (one a minute) would bring five fresh guesses, thousands a day. Ten a day leaves a
 * persistent attacker about one chance in 270 a year of guessing a six-digit code.
 */
export const ACCOUNT_CODE_ATTEMPTS = 10;
const ACCOUNT_WINDOW_MS = 24 * 3_600_000;
// One code per minute and purpose at most reaches an inbox, however often it is asked for.
const RESEND_INTERVAL_MS = 60_000;
// Never a user id: a try for an unknown name runs the same hash and query as one for a known name.
const NO_USER = '';

/**
 * The stored form of a long random secret (recovery codes, mfa tokens): SHA-256 over its parts,
 * salted with the owner's id. Not for the six-digit codes, which need a keyed hash (AccountCodeKey).
 */
export const hashSecret = (...parts: string[]): string => createHash('sha256').update(parts.join('\0')).digest('hex');

const newCode = () => String(randomInt(0, 1_000_000)).padStart(6, '0');

export type AccountCodeServices = Pick<Services, 'db' | 'tenantId' | 'clock' | 'config' | 'mailer' | 'accountCodeKey'>;

type Key = { tenant_id: string; user_id: string; purpose: CodePurpose };

/**
 * Six-digit codes mailed to an account's address: stored under a keyed hash, live
 * `ACCOUNT_CODE_TTL`, `CODE_ATTEMPTS` tries each and `ACCOUNT_CODE_ATTEMPTS` a day per account.
 */
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
    const key = this.key(user.id, purpose);
    const last = await this.queries.find(key);
    if (last && now - last.created_at < RESEND_INTERVAL_MS) return;
    await this.queries.blankExpired(now);
    const code = newCode();
    await this.queries.replace({ ...key, code_hash: await this.hash(key, code), attempts: 0, created_at: now, expires_at: now + config.accountCodeTtl * 1000 });
    mailer.send(codeMail(purpose, user.email, user.username, code, config.accountCodeTtl));
  }

  /**
   * Uses up the user's live code for `purpose` and returns the user; throws `invalid_code` for
   * anything else, an unknown user included, after the same work (a keyed hash and a counted try).
   */
  async redeem(user: UserRow | undefined, purpose: CodePurpose, code: string): Promise<UserRow> {
    const now = this.services.clock();
    const key = this.key(user?.id ?? NO_USER, purpose);
    const presented = Buffer.from(await this.hash(key, code), 'hex');
    const limits = { perCode: CODE_ATTEMPTS, perAccount: ACCOUNT_CODE_ATTEMPTS, windowStart: now - ACCOUNT_WINDOW_MS };
    const row = await this.queries.spendAttempt(key, limits, now);
    const stored = Buffer.from(row?.code_hash ?? '', 'hex');
    const matches = stored.length === presented.length && timingSafeEqual(stored, presented);
    if (!user || !matches || !(await this.queries.consume(key, row!.code_hash))) throw invalidCode();
    return user;
  }

  private hash(key: Key, code: string): Promise<string> {
    return this.services.accountCodeKey.hash(key.tenant_id, key.user_id, key.purpose, code);
  }

  private key(userId: string, purpose: CodePurpose): Key {
    return { tenant_id: this.services.tenantId, user_id: userId, purpose };
  }
}
