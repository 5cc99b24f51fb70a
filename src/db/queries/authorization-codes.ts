import type { Knex } from 'knex';

export interface AuthorizationCodeRow {
  code_hash: string;
  tenant_id: string;
  client_id: string;
  user_id: string;
  redirect_uri: string;
  code_challenge: string;
  nonce: string | null;
  scope: string;
  browser_session_id: string;
  auth_time: number;
  /** The browser session's `amr` when the code was issued. */
  amr: string | null;
  expires_at: number;
  used_at: number | null;
  issued_session_id: string | null;
  replayed_at: number | null;
}

/** Authorization codes (RFC 6749 §4.1.2), stored as hashes: single use, shared by every process. */
export function createAuthorizationCodeQueries(db: Knex) {
  const codes = () => db<AuthorizationCodeRow>('authorization_codes');
  return {
    async insert(row: AuthorizationCodeRow): Promise<void> {
      await codes().insert(row);
    },
    async find(tenantId: string, codeHash: string): Promise<AuthorizationCodeRow | undefined> {
      return codes().where({ tenant_id: tenantId, code_hash: codeHash }).first();
    },
    /** Uses a code up, naming the session its use starts; false when another request used it first. */
    async consume(codeHash: string, sessionId: string, now: number): Promise<boolean> {
      return (await codes().where({ code_hash: codeHash }).whereNull('used_at').update({ used_at: now, issued_session_id: sessionId })) > 0;
    },
    /** Records a second use; returns the session the first use started (or is starting). */
    async markReplayed(codeHash: string, now: number): Promise<string | null> {
      await codes().where({ code_hash: codeHash }).whereNull('replayed_at').update({ replayed_at: now });
      return (await codes().where({ code_hash: codeHash }).first())?.issued_session_id ?? null;
    },
    async wasReplayed(codeHash: string): Promise<boolean> {
      return (await codes().where({ code_hash: codeHash }).whereNotNull('replayed_at').first()) !== undefined;
    },
    /** Deletes codes that expired before `before` (a used one is kept that long, so its replay is still caught). */
    async deleteExpired(before: number): Promise<number> {
      return codes().where('expires_at', '<', before).delete();
    },
  };
}
