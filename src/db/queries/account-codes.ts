import type { Knex } from 'knex';

export interface AccountCodeRow {
  user_id: string;
  purpose: string;
  tenant_id: string;
  code_hash: string;
  attempts: number;
  created_at: number;
  expires_at: number;
}

type Key = Pick<AccountCodeRow, 'tenant_id' | 'user_id' | 'purpose'>;

/** E-mailed one-time codes: at most one live code per user and purpose. */
export function createAccountCodeQueries(db: Knex) {
  const codes = () => db<AccountCodeRow>('account_codes');
  return {
    async find(key: Key): Promise<AccountCodeRow | undefined> {
      return codes().where(key).first();
    },
    /** Stores a code in place of the user's earlier one for the same purpose. */
    async replace(row: AccountCodeRow): Promise<void> {
      await codes().insert(row).onConflict(['user_id', 'purpose']).merge();
    },
    /** Counts one attempt at a live code; false when there is none to try (none, expired, or out of attempts). */
    async spendAttempt(key: Key, maxAttempts: number, now: number): Promise<boolean> {
      const changed = await codes().where(key).where('attempts', '<', maxAttempts).where('expires_at', '>', now).increment('attempts', 1);
      return changed > 0;
    },
    /** Deletes the code when it is this one; true when it was (so each code works once, even under races). */
    async consume(key: Key, codeHash: string): Promise<boolean> {
      return (await codes().where({ ...key, code_hash: codeHash }).delete()) > 0;
    },
    async deleteExpired(now: number): Promise<number> {
      return codes().where('expires_at', '<=', now).delete();
    },
  };
}
