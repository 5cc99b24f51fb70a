import type { Knex } from 'knex';

export interface AccountCodeTryRow {
  tenant_id: string;
  user_id: string;
  purpose: string;
  /** The client's address as every limit keys it (src/http/client-key.ts). */
  client: string;
  failures: number;
  failures_since: number;
}

type Key = Pick<AccountCodeTryRow, 'tenant_id' | 'user_id' | 'purpose' | 'client'>;

/** Tries at an account's e-mailed codes from one client address, in windows. */
export function createAccountCodeTryQueries(db: Knex) {
  const tries = () => db<AccountCodeTryRow>('account_code_tries');
  return {
    /**
     * Counts one try from this client; false when it already made `limit` in the window (a window
     * that started at or before `windowStart` is over, and the try starts a new one). The count is
     * one conditional UPDATE, so concurrent tries cannot pass the limit together.
     */
    async spend(key: Key, limit: number, windowStart: number, now: number): Promise<boolean> {
      await tries().insert({ ...key, failures: 0, failures_since: now }).onConflict(['tenant_id', 'user_id', 'purpose', 'client']).ignore();
      const changed = await tries()
        .where(key)
        .where((q) => q.where('failures', '<', limit).orWhere('failures_since', '<=', windowStart))
        .update({
          failures: db.raw('CASE WHEN failures_since <= ? THEN 1 ELSE failures + 1 END', [windowStart]),
          failures_since: db.raw('CASE WHEN failures_since <= ? THEN ? ELSE failures_since END', [windowStart, now]),
        });
      return changed > 0;
    },
    /** Forgets windows that are over: nothing is kept that no longer counts. */
    async forgetBefore(windowStart: number): Promise<void> {
      await tries().where('failures_since', '<=', windowStart).delete();
    },
  };
}
