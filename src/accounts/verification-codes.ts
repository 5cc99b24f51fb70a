import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import { createAccountCodeTryQueries } from '../db/queries/account-code-tries';
import { createAccountCodeQueries } from '../db/queries/account-codes';
import type { UserRow } from '../db/queries/users';
import { invalidCode } from '../errors';
import { codeMail, type CodePurpose } from '../mail/messages';
import type { Services } from '../services';

/** Tries one e-mailed code allows before it is dead; the owner asks for a fresh one (SPEC §8). */
export const CODE_ATTEMPTS = 5;
/**
 * Tries one client address (an IPv4 address, an IPv6 /56) allows per account and purpose in a day:
 * wrong tries from elsewhere spend their own budgets, never the owner's (SPEC §9).
 */
export const CLIENT_CODE_ATTEMPTS = 10;
/**
 * Tries one account allows per purpose in a day, from every address together: a guess at a six-digit
 * code succeeds at most 100 times in 10^6 in any 24 hours, which span at most two windows of 50
 * (SECURITY.md has the arithmetic). Five addresses' budgets, not one, are needed to spend it.
 */
export const ACCOUNT_CODE_ATTEMPTS = 50;
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
 * `ACCOUNT_CODE_TTL`, `CODE_ATTEMPTS` tries each, `CLIENT_CODE_ATTEMPTS` a day per account and
 * client address, and `ACCOUNT_CODE_ATTEMPTS` a day per account.
 */
export class AccountCodes {
  private readonly queries: ReturnType<typeof createAccountCodeQueries>;
  private readonly tries: ReturnType<typeof createAccountCodeTryQueries>;

  constructor(private readonly services: AccountCodeServices) {
    this.queries = createAccountCodeQueries(services.db);
    this.tries = createAccountCodeTryQueries(services.db);
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
    await this.tries.forgetBefore(now - ACCOUNT_WINDOW_MS);
    const code = newCode();
    await this.queries.replace({ ...key, code_hash: await this.hash(key, code), attempts: 0, created_at: now, expires_at: now + config.accountCodeTtl * 1000 });
    mailer.send(codeMail(purpose, user.email, user.username, code, config.accountCodeTtl));
  }

  /**
   * Uses up the user's live code for `purpose` and returns the user; throws `invalid_code` for
   * anything else, an unknown user included, after the same work (a keyed hash and counted tries).
   * `client` is the caller's address as limits key it (clientKey): a client over its own budget
   * touches neither the code nor the account's budget, so it cannot lock the owner out.
   */
  async redeem(user: UserRow | undefined, purpose: CodePurpose, code: string, client: string): Promise<UserRow> {
    const now = this.services.clock();
    const key = this.key(user?.id ?? NO_USER, purpose);
    const presented = Buffer.from(await this.hash(key, code), 'hex');
    const windowStart = now - ACCOUNT_WINDOW_MS;
    const clientMayTry = await this.tries.spend({ ...key, client }, CLIENT_CODE_ATTEMPTS, windowStart, now);
    const limits = { perCode: CODE_ATTEMPTS, perAccount: ACCOUNT_CODE_ATTEMPTS, windowStart };
    const row = clientMayTry ? await this.queries.spendAttempt(key, limits, now) : undefined;
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
