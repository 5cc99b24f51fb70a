import type { Knex } from 'knex';
import type { SessionRow } from './sessions';

export interface BrowserSessionRow {
  session_id: string;
  tenant_id: string;
  secret_hash: string;
  auth_time: number;
  /** How the person signed in: RFC 8176 values, space-separated; null for sessions from before it was kept. */
  amr: string | null;
}

/** A browser session with the tessera session it is. */
export type BrowserSession = BrowserSessionRow & { session: SessionRow };

/** The cookies of browser sessions at the authorization endpoint (SPEC §10), by hash. */
export function createBrowserSessionQueries(db: Knex) {
  const rows = () => db<BrowserSessionRow>('browser_sessions');
  return {
    async insert(row: BrowserSessionRow): Promise<void> {
      await rows().insert(row);
    },
    /** The browser session of a cookie, live or not: the caller judges its session. */
    async findByHash(tenantId: string, secretHash: string): Promise<BrowserSession | undefined> {
      const row = await rows().where({ tenant_id: tenantId, secret_hash: secretHash }).first();
      const session = row && (await db<SessionRow>('sessions').where({ id: row.session_id }).first());
      return row && session ? { ...row, session } : undefined;
    },
  };
}
