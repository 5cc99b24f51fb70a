import type { Knex } from 'knex';

export interface MfaTokenRow {
  token_hash: string;
  tenant_id: string;
  user_id: string;
  client_id: string;
  scope: string | null;
  attempts: number;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

/** The mfa grant's short-lived, single-use tokens (SPEC §8), stored as hashes. */
export function createMfaTokenQueries(db: Knex) {
  const tokens = () => db<MfaTokenRow>('mfa_tokens');
  return {
    async insert(row: MfaTokenRow): Promise<void> {
      await tokens().insert(row);
    },
    /**
     * Counts one attempt at a live token of this tenant and client; the row, or
     * undefined when there is none to try (unknown, foreign, expired, used, or out of attempts).
     */
    async spendAttempt(tenantId: string, tokenHash: string, clientId: string, maxAttempts: number, now: number): Promise<MfaTokenRow | undefined> {
      const live = { tenant_id: tenantId, token_hash: tokenHash, client_id: clientId, used_at: null };
      const changed = await tokens().where(live).where('attempts', '<', maxAttempts).where('expires_at', '>', now).increment('attempts', 1);
      return changed > 0 ? tokens().where(live).first() : undefined;
    },
    /** Marks a token used; false when another request used it first. */
    async markUsed(tokenHash: string, now: number): Promise<boolean> {
      return (await tokens().where({ token_hash: tokenHash }).whereNull('used_at').update({ used_at: now })) > 0;
    },
    /** Ends every unfinished sign-in of a user. */
    async removeForUser(userId: string): Promise<void> {
      await tokens().where({ user_id: userId }).delete();
    },
    async deleteExpired(now: number): Promise<number> {
      return tokens().where('expires_at', '<=', now).delete();
    },
  };
}
