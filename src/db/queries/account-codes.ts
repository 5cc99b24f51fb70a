import type { Knex } from 'knex';

export interface AccountCodeRow {
  user_id: string;
  purpose: string;
  tenant_id: string;
  /** The keyed hash of the live code; '' when there is none (used, expired or never mailed). */
  code_hash: string;
  /** Tries at this code. */
  attempts: number;
  created_at: number;
  expires_at: number;
  /** Tries at every code of this account and purpose since `failures_since`; a success does not start over, so the daily bound holds. */
  failures: number;
  failures_since: number;
}

type Key = Pick<AccountCodeRow, 'tenant_id' | 'user_id' | 'purpose'>;
type NewCode = Omit<AccountCodeRow, 'failures' | 'failures_since'>;

/** The bounds a try must stay within. */
export interface AttemptLimits {
  /** Tries one code allows. */
  readonly perCode: number;
  /** Tries an account allows per purpose in a window; a window that started at or before `windowStart` is over. */
  readonly perAccount: number;
  readonly windowStart: number;
}

const NO_CODE = { code_hash: '', expires_at: 0 };

/** E-mailed one-time codes: one row per account and purpose, holding its live code if any. */
export function createAccountCodeQueries(db: Knex) {
  const codes = () => db<AccountCodeRow>('account_codes');
  return {
    async find(key: Key): Promise<AccountCodeRow | undefined> {
      return codes().where(key).first();
    },
    /** Stores a new code in place of the earlier one; the account's count of tries carries over. */
    async replace(row: NewCode): Promise<void> {
      await codes()
        .insert({ ...row, failures: 0, failures_since: 0 })
        .onConflict(['user_id', 'purpose'])
        .merge(['tenant_id', 'code_hash', 'attempts', 'created_at', 'expires_at']);
    },
    /**
     * Counts one try at the live code, against the code and the account at once (one statement, so
     * concurrent tries cannot pass a limit together); the row as it then is, or undefined when
     * there is nothing to try (no live code, or a limit reached).
     */
    async spendAttempt(key: Key, limits: AttemptLimits, now: number): Promise<AccountCodeRow | undefined> {
      const changed = await codes()
        .where(key)
        .whereNot('code_hash', '')
        .where('expires_at', '>', now)
        .where('attempts', '<', limits.perCode)
        .where((q) => q.where('failures', '<', limits.perAccount).orWhere('failures_since', '<=', limits.windowStart))
        .update({
          attempts: db.raw('attempts + 1'),
          failures: db.raw('CASE WHEN failures_since <= ? THEN 1 ELSE failures + 1 END', [limits.windowStart]),
          failures_since: db.raw('CASE WHEN failures_since <= ? THEN ? ELSE failures_since END', [limits.windowStart, now]),
        });
      return changed > 0 ? codes().where(key).first() : undefined;
    },
    /** Uses up the code when it is still this one; true when it was (each code works once, even under races). */
    async consume(key: Key, codeHash: string): Promise<boolean> {
      return (await codes().where({ ...key, code_hash: codeHash }).update(NO_CODE)) > 0;
    },
    /** Ends the live code, if any (a new password makes a mailed reset code worthless). */
    async discard(key: Key): Promise<void> {
      await codes().where(key).update(NO_CODE);
    },
    /** Wipes the hashes of codes that have expired: nothing is kept that no longer serves. */
    async blankExpired(now: number): Promise<void> {
      await codes().whereNot('code_hash', '').where('expires_at', '<=', now).update(NO_CODE);
    },
  };
}
