import type { Knex } from 'knex';
import { isPostgres } from '../connection';
import { knexReads } from '../reads';
import { sqliteTransaction } from '../sqlite-statements';
import { INSERT_REFRESH_TOKEN, newRefreshTokenBindings, type RefreshTokenRow } from './refresh-tokens';
import type { SessionRow } from './sessions';
import { storedRoles, type UserRow } from './users';

// Only the columns a rotation uses: each column read makes the row object cost more.
/** A presented refresh token, as a rotation needs it. */
export type PresentedToken = Pick<RefreshTokenRow, 'id' | 'session_id' | 'rotated_at' | 'successor_id' | 'successor_sealed'>;
/** A refresh token's session, as a rotation needs it. */
export type RotationSession = Pick<SessionRow, 'id' | 'tenant_id' | 'user_id' | 'client_id' | 'scope' | 'last_used_at' | 'expires_at' | 'revoked_at' | 'dpop_jkt'>;
/** A session's user, as a refresh needs it. */
export type SessionUser = Pick<UserRow, 'id' | 'username' | 'roles' | 'disabled'>;

/** What a presented refresh token leads to, read inside the rotation's transaction. */
export interface RotationState {
  readonly token: PresentedToken;
  readonly session: RotationSession;
  readonly user: SessionUser | undefined;
  /** The recorded successor of a token already rotated. */
  readonly successor: Pick<RefreshTokenRow, 'rotated_at'> | undefined;
}

/** The writes of one rotation: the successor, the consumed token, and the session's last use. */
export interface RotationWrites {
  readonly successor: RefreshTokenRow;
  readonly successorSealed: string;
  readonly now: number;
  readonly ip: string | null;
  readonly userAgent: string | null;
}

/** Decides, from the state (undefined for an unknown token), the result and the writes, if any; or throws. */
export type RotationDecision<T> = (state: RotationState | undefined) => { readonly result: T; readonly writes?: RotationWrites };

// Plain SQL both databases accept; knex turns `?` into `$n` for PostgreSQL.
const TOKEN_BY_HASH = 'SELECT id, session_id, rotated_at, successor_id, successor_sealed FROM refresh_tokens WHERE token_hash = ?';
const SUCCESSOR_BY_ID = 'SELECT rotated_at FROM refresh_tokens WHERE id = ?';
const SESSION_WITH_USER = `SELECT s.id, s.tenant_id, s.user_id, s.client_id, s.scope, s.last_used_at, s.expires_at, s.revoked_at, s.dpop_jkt,
    u.username AS user_username, u.roles AS user_roles, u.disabled AS user_disabled
  FROM sessions s LEFT JOIN users u ON u.id = s.user_id AND u.tenant_id = s.tenant_id WHERE s.id = ?`;
const MARK_ROTATED = 'UPDATE refresh_tokens SET rotated_at = ?, successor_id = ?, successor_sealed = ? WHERE id = ?';
const TOUCH_SESSION = 'UPDATE sessions SET last_used_at = ?, ip = ?, user_agent = ? WHERE id = ?';

type SessionWithUser = RotationSession & { user_username: string | null; user_roles: string | null; user_disabled: boolean | number | null };

function stateOf(token: PresentedToken, found: SessionWithUser, successor: RotationState['successor']): RotationState {
  const { user_username: username, user_roles: roles, user_disabled: disabled, ...session } = found;
  const user = session.user_id === null || username === null ? undefined : { id: session.user_id, username, roles: storedRoles(roles ?? ''), disabled: Boolean(disabled) };
  return { token, session, user, successor };
}

const writeStatements = (token: PresentedToken, { successor, successorSealed, now, ip, userAgent }: RotationWrites): Array<[string, unknown[]]> => [
  [INSERT_REFRESH_TOKEN, newRefreshTokenBindings(successor)],
  [MARK_ROTATED, [now, successor.id, successorSealed, token.id]],
  [TOUCH_SESSION, [now, ip, userAgent, token.session_id]],
];

/** SQLite: one synchronous transaction on knex's connection, so nothing interleaves and no row lock is needed. */
function rotateOnSqlite<T>(db: Knex, tokenHash: string, decide: RotationDecision<T>): Promise<T> {
  return sqliteTransaction(db, (sql) => {
    const token = sql.get<PresentedToken>(TOKEN_BY_HASH, tokenHash);
    const found = token && sql.get<SessionWithUser>(SESSION_WITH_USER, token.session_id);
    const successor = token?.successor_id ? sql.get<RotationState['successor']>(SUCCESSOR_BY_ID, token.successor_id) : undefined;
    const { result, writes } = decide(token && found ? stateOf(token, found, successor) : undefined);
    if (token && writes) for (const [statement, bindings] of writeStatements(token, writes)) sql.run(statement, ...bindings);
    return result;
  });
}

/** PostgreSQL: the token's row stays locked until commit, so parallel rotations of one token queue behind each other. */
function rotateOnPostgres<T>(db: Knex, tokenHash: string, decide: RotationDecision<T>): Promise<T> {
  return db.transaction(async (trx) => {
    const reads = knexReads(trx);
    const get = <R>(sql: string, ...bindings: unknown[]) => reads.row<R>(sql, bindings);
    const token = await get<PresentedToken>(`${TOKEN_BY_HASH} FOR UPDATE`, tokenHash);
    const found = token && (await get<SessionWithUser>(SESSION_WITH_USER, token.session_id));
    const successor = token?.successor_id ? await get<RotationState['successor']>(SUCCESSOR_BY_ID, token.successor_id) : undefined;
    const { result, writes } = decide(token && found ? stateOf(token, found, successor) : undefined);
    if (token && writes) for (const [statement, bindings] of writeStatements(token, writes)) await trx.raw(statement, bindings as Knex.RawBinding[]);
    return result;
  });
}

/**
 * Refresh-token rotation as one transaction: read the token, its session,
 * user and successor; let `decide` rule; write what it decided.
 */
export function createRefreshRotationQueries(db: Knex) {
  return {
    rotate: <T>(tokenHash: string, decide: RotationDecision<T>): Promise<T> =>
      isPostgres(db) ? rotateOnPostgres(db, tokenHash, decide) : rotateOnSqlite(db, tokenHash, decide),
  };
}
