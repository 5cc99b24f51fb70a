import type { Knex } from 'knex';

interface RecoveryCodeRow {
  user_id: string;
  code_hash: string;
  used_at: number | null;
}

/** Single-use recovery codes of a TOTP enrolment, stored as hashes. */
export function createRecoveryCodeQueries(db: Knex) {
  const codes = () => db<RecoveryCodeRow>('recovery_codes');
  return {
    /** Replaces every code of the user. */
    async replace(userId: string, codeHashes: readonly string[]): Promise<void> {
      await db.transaction(async (trx) => {
        await trx<RecoveryCodeRow>('recovery_codes').where({ user_id: userId }).delete();
        await trx<RecoveryCodeRow>('recovery_codes').insert(codeHashes.map((code_hash) => ({ user_id: userId, code_hash, used_at: null })));
      });
    },
    /** Marks an unused code used; false when there is no such unused code. */
    async use(userId: string, codeHash: string, now: number): Promise<boolean> {
      return (await codes().where({ user_id: userId, code_hash: codeHash }).whereNull('used_at').update({ used_at: now })) > 0;
    },
    async countUnused(userId: string): Promise<number> {
      const [row] = await codes().where({ user_id: userId }).whereNull('used_at').count<Array<{ count: number | string }>>({ count: '*' });
      return Number(row?.count ?? 0);
    },
    async removeAll(userId: string): Promise<void> {
      await codes().where({ user_id: userId }).delete();
    },
  };
}
