import type { Knex } from 'knex';

interface PendingVerificationRow {
  user_id: string;
  tenant_id: string;
  created_at: number;
}

/** Accounts that may not sign in until their e-mail address is verified (SPEC §8). */
export function createPendingVerificationQueries(db: Knex) {
  const pending = () => db<PendingVerificationRow>('pending_verifications');
  return {
    async insert(tenantId: string, userId: string, now: number): Promise<void> {
      await pending().insert({ tenant_id: tenantId, user_id: userId, created_at: now });
    },
    async exists(tenantId: string, userId: string): Promise<boolean> {
      return (await pending().where({ tenant_id: tenantId, user_id: userId }).first()) !== undefined;
    },
    /** True when the account was pending (and now is not). */
    async remove(tenantId: string, userId: string): Promise<boolean> {
      return (await pending().where({ tenant_id: tenantId, user_id: userId }).delete()) > 0;
    },
  };
}
