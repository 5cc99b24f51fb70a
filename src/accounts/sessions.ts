import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Bus } from '../bus/bus';
import { createSessionQueries, type SessionRow, type SessionSelector } from '../db/queries/sessions';

export interface SessionStart {
  readonly tenantId: string;
  readonly userId: string | null;
  readonly clientId: string;
  readonly scope: string;
  readonly ip: string | null;
  readonly userAgent: string | null;
  /** Seconds until the session ends, whatever its use. */
  readonly lifetime: number;
  /** Binds the session's refresh tokens to a DPoP key (public clients, RFC 9449 §5.0). */
  readonly dpopJkt?: string;
  /** The id to give the session, when it had to be known before it starts (a code's first use records it). */
  readonly id?: string;
  /** The browser session whose authorization code starts this one (SPEC §10). */
  readonly browserSessionId?: string;
}

/** The row of a session that starts now. */
export const newSessionRow = (start: SessionStart, now: number): SessionRow => ({
  id: start.id ?? randomUUID(),
  tenant_id: start.tenantId,
  user_id: start.userId,
  client_id: start.clientId,
  scope: start.scope,
  created_at: now,
  last_used_at: now,
  expires_at: now + start.lifetime * 1000,
  revoked_at: null,
  revoked_reason: null,
  ip: start.ip,
  user_agent: start.userAgent,
  dpop_jkt: start.dpopJkt ?? null,
  browser_session_id: start.browserSessionId ?? null,
});

/** Why a session ended; recorded on the row and visible to operators. */
export type RevocationReason =
  | 'logout'
  | 'logout_all'
  | 'revoked_by_user'
  | 'password_changed'
  | 'refresh_token_reuse'
  | 'token_revocation'
  | 'user_disabled'
  | 'roles_changed'
  | 'admin_force_logout'
  | 'two_factor_reset'
  | 'client_removed'
  | 'authorization_code_reuse'
  | 'end_session'
  | 'app_removed';

/** Sessions (token families): starting them and ending them everywhere at once. */
export class Sessions {
  private readonly queries: ReturnType<typeof createSessionQueries>;

  constructor(
    db: Knex,
    private readonly bus: Bus,
  ) {
    this.queries = createSessionQueries(db);
  }

  /** Starts a session without a refresh token (client_credentials); see `RefreshTokens.startSession` for one with. */
  async start(start: SessionStart, now = Date.now()): Promise<SessionRow> {
    const session = newSessionRow(start, now);
    await this.queries.insert(session);
    return session;
  }

  find(id: string): Promise<SessionRow | undefined> {
    return this.queries.findById(id);
  }

  listLive(userId: string, now = Date.now()): Promise<SessionRow[]> {
    return this.queries.listLiveForUser(userId, now);
  }

  /** Revokes the selected sessions and tells every process; returns the revoked ids. */
  async revoke(selector: SessionSelector, reason: RevocationReason, now = Date.now()): Promise<string[]> {
    const ids = await this.queries.revoke(selector, reason, now);
    if (ids.length > 0) this.bus.publish('sessions.revoked', { ids, at: now });
    return ids;
  }
}
