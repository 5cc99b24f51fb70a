import type { Knex } from 'knex';
import { onSqliteConnection, sqliteTransaction } from '../sqlite-statements';
import { INSERT_REFRESH_TOKEN, newRefreshTokenBindings, type RefreshTokenRow } from './refresh-tokens';

export interface SessionRow {
  id: string;
  tenant_id: string;
  user_id: string | null;
  client_id: string;
  scope: string;
  created_at: number;
  last_used_at: number;
  expires_at: number;
  revoked_at: number | null;
  revoked_reason: string | null;
  ip: string | null;
  user_agent: string | null;
  /** RFC 9449 §5.0: the thumbprint of the DPoP key a public client's refresh tokens are bound to. */
  dpop_jkt: string | null;
  /** The browser session whose authorization code started this token session (SPEC §10), if any. */
  browser_session_id: string | null;
}

/** Which sessions to revoke: one, all of a user's, all of a client's, all of one user's with one client, or what a browser session started. */
export type SessionSelector =
  | { readonly id: string }
  | { readonly userId: string; readonly exceptId?: string; readonly clientId?: string }
  | { readonly tenantId: string; readonly clientId: string }
  | { readonly browserSessionId: string };

const SESSION_COLUMNS = Object.keys({
  id: true, tenant_id: true, user_id: true, client_id: true, scope: true, created_at: true, last_used_at: true,
  expires_at: true, revoked_at: true, revoked_reason: true, ip: true, user_agent: true, dpop_jkt: true, browser_session_id: true,
} satisfies Record<keyof SessionRow, true>) as Array<keyof SessionRow>;
const INSERT_SESSION = `INSERT INTO sessions (${SESSION_COLUMNS.join(', ')}) VALUES (${SESSION_COLUMNS.map(() => '?').join(', ')})`;

export function createSessionQueries(db: Knex) {
  const sessions = () => db<SessionRow>('sessions');
  return {
    /** Inserts a session, and its first refresh token in the same transaction when given. */
    async insert(session: SessionRow, firstToken?: RefreshTokenRow): Promise<void> {
      // Every token grant starts a session: on SQLite, prepared statements rather than knex's query building.
      if (onSqliteConnection(db)) {
        await sqliteTransaction(db, (sql) => {
          sql.run(INSERT_SESSION, ...SESSION_COLUMNS.map((column) => session[column]));
          if (firstToken) sql.run(INSERT_REFRESH_TOKEN, ...newRefreshTokenBindings(firstToken));
        });
      } else if (firstToken) {
        await db.transaction(async (trx) => {
          await trx('sessions').insert(session);
          await trx('refresh_tokens').insert(firstToken);
        });
      } else {
        await sessions().insert(session);
      }
    },
    async findById(id: string): Promise<SessionRow | undefined> {
      return sessions().where({ id }).first();
    },
    async listLiveForUser(userId: string, now: number): Promise<SessionRow[]> {
      return sessions()
        .where({ user_id: userId })
        .whereNull('revoked_at')
        .where('expires_at', '>', now)
        .orderBy('created_at', 'desc')
        .orderBy('id', 'desc');
    },
    /** Marks the selected live sessions revoked; returns their ids. */
    async revoke(selector: SessionSelector, reason: string, now: number): Promise<string[]> {
      const query = sessions().whereNull('revoked_at');
      if ('id' in selector) query.where({ id: selector.id });
      else if ('browserSessionId' in selector) query.where({ browser_session_id: selector.browserSessionId });
      else if ('userId' in selector) {
        query.where({ user_id: selector.userId });
        if (selector.exceptId) query.whereNot({ id: selector.exceptId });
        if (selector.clientId) query.where({ client_id: selector.clientId });
      } else query.where({ tenant_id: selector.tenantId, client_id: selector.clientId });
      const ids = (await query.clone().select('id')).map((row) => row.id);
      if (ids.length > 0) {
        await sessions().whereIn('id', ids).whereNull('revoked_at').update({ revoked_at: now, revoked_reason: reason });
      }
      return ids;
    },
    async listRevokedSince(since: number): Promise<Array<Pick<SessionRow, 'id' | 'revoked_at'>>> {
      return sessions().where('revoked_at', '>=', since).select('id', 'revoked_at');
    },
    /** Deletes sessions that ended before `before`; returns how many. */
    async deleteEndedBefore(before: number): Promise<number> {
      return sessions()
        .where('expires_at', '<', before)
        .orWhere('revoked_at', '<', before)
        .delete();
    },
  };
}
