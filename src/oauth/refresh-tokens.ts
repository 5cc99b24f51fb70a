import { createCipheriv, createDecipheriv, hash, randomBytes, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { newSessionRow, type SessionStart, type Sessions } from '../accounts/sessions';
import { createRefreshRotationQueries, type RotationSession, type RotationState, type RotationWrites, type SessionUser } from '../db/queries/refresh-rotation';
import { createRefreshTokenQueries, type RefreshTokenRow } from '../db/queries/refresh-tokens';
import { createSessionQueries, type SessionRow } from '../db/queries/sessions';
import { invalidGrant } from '../errors';

export interface RefreshTokenOptions {
  /** Seconds a rotated token may be retried for its recorded successor (SPEC §3.2). */
  readonly reuseGrace: number;
  /** Seconds without use after which a session ends. */
  readonly idleTtl: number;
  /** Called when a rotated token comes back after its grace (the session is revoked). */
  readonly onReuse?: () => void;
}

export interface Rotation {
  readonly session: RotationSession;
  readonly user: SessionUser;
  readonly refreshToken: string;
}

export interface UseContext {
  /** The authenticated client: a client is its tenant and its id. */
  readonly tenantId: string;
  readonly clientId: string;
  readonly ip: string | null;
  readonly userAgent: string | null;
  /** The thumbprint of the request's DPoP proof key, if it came with one. */
  readonly dpopJkt: string | undefined;
  /** Refuses the request (by throwing) before any token is consumed, e.g. for a scope the session lacks. */
  readonly check?: (session: RotationSession) => unknown;
}

/** Refresh tokens are stored only as SHA-256 hashes: 256 random bits need no slow hash. */
export const hashRefreshToken = (token: string) => hash('sha256', token, 'hex');

const newToken = () => randomBytes(32).toString('base64url');

const newTokenRow = (sessionId: string, token: string, now: number): RefreshTokenRow => ({
  id: randomUUID(),
  session_id: sessionId,
  token_hash: hashRefreshToken(token),
  created_at: now,
  rotated_at: null,
  successor_id: null,
  successor_sealed: null,
});

// The successor is sealed with a key only the holder of its parent can
// derive, so the database alone never yields a usable refresh token.
const sealingKey = (parent: string) => hash('sha256', `tessera refresh successor\0${parent}`, 'buffer');

function seal(parent: string, successor: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', sealingKey(parent), iv);
  const sealed = Buffer.concat([cipher.update(successor, 'utf8'), cipher.final()]);
  return Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64url');
}

function unseal(parent: string, sealed: string): string {
  const raw = Buffer.from(sealed, 'base64url');
  const decipher = createDecipheriv('aes-256-gcm', sealingKey(parent), raw.subarray(0, 12));
  decipher.setAuthTag(raw.subarray(12, 28));
  return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8');
}

type Outcome = { kind: 'rotated'; rotation: Rotation } | { kind: 'reuse'; sessionId: string };

/**
 * Refresh-token families: issue the first token of a session, and rotate on
 * every use in one transaction (STYLE §4): hash lookup → reject unknown,
 * ended or foreign → a retry within the grace gets the recorded successor →
 * any other reuse revokes the family → else consume and issue.
 */
export class RefreshTokens {
  constructor(
    private readonly db: Knex,
    private readonly sessions: Sessions,
    private readonly options: RefreshTokenOptions,
  ) {}

  /** Starts a session and issues its first refresh token, in one transaction. */
  async startSession(start: SessionStart, now = Date.now()): Promise<{ session: SessionRow; refreshToken: string }> {
    const session = newSessionRow(start, now);
    const refreshToken = newToken();
    await createSessionQueries(this.db).insert(session, newTokenRow(session.id, refreshToken, now));
    return { session, refreshToken };
  }

  /** Rotates a presented refresh token; throws `invalid_grant` for anything but a live, own token of an enabled user. */
  async rotate(presented: string, use: UseContext, now = Date.now()): Promise<Rotation> {
    const outcome = await createRefreshRotationQueries(this.db).rotate(hashRefreshToken(presented), (state) => this.decide(state, presented, use, now));
    if (outcome.kind === 'reuse') {
      this.options.onReuse?.();
      await this.sessions.revoke({ id: outcome.sessionId }, 'refresh_token_reuse', now);
      throw invalidGrant('The refresh token was already used; the session has been revoked.', `reuse in session ${outcome.sessionId}`);
    }
    return outcome.rotation;
  }

  /** A refresh token of the tenant: its session and whether it was rotated, or undefined when unknown there (revocation, introspection). */
  async describe(tenantId: string, token: string): Promise<{ session: SessionRow; rotated: boolean; issuedAt: number } | undefined> {
    const row = await createRefreshTokenQueries(this.db).findByHash(hashRefreshToken(token));
    const session = row && (await this.sessions.find(row.session_id));
    return row && session?.tenant_id === tenantId ? { session, rotated: row.rotated_at !== null, issuedAt: row.created_at } : undefined;
  }

  /** True while the session can still be refreshed. */
  isLive(session: Pick<SessionRow, 'revoked_at' | 'expires_at' | 'last_used_at'>, now: number): boolean {
    return session.revoked_at === null && session.expires_at > now && session.last_used_at + this.options.idleTtl * 1000 > now;
  }

  /** The rules of one rotation, applied inside its transaction. */
  private decide(state: RotationState | undefined, presented: string, use: UseContext, now: number): { result: Outcome; writes?: RotationWrites } {
    if (!state) throw invalidGrant('The refresh token is invalid.');
    const { token, session, user, successor } = state;
    if (!this.isLive(session, now)) throw invalidGrant('The session of this refresh token has ended.');
    // RFC 6749 §6: the token must have been issued to the authenticated client (of the same tenant: SPEC §8).
    if (session.tenant_id !== use.tenantId || session.client_id !== use.clientId) throw invalidGrant('The refresh token was issued to another client.');
    if (!user || user.disabled) throw invalidGrant('The account of this session is disabled.');
    // RFC 9449 §5.0: a bound refresh token (a public client's) needs a proof by its key, also for a retry within the grace.
    if (session.dpop_jkt !== null && session.dpop_jkt !== use.dpopJkt) {
      throw invalidGrant('This refresh token is bound to a DPoP key: send a proof signed by that key.');
    }

    if (token.rotated_at !== null) {
      const withinGrace = now - token.rotated_at <= this.options.reuseGrace * 1000;
      if (withinGrace && successor && successor.rotated_at === null && token.successor_sealed !== null) {
        return { result: { kind: 'rotated', rotation: { session, user, refreshToken: unseal(presented, token.successor_sealed) } } };
      }
      return { result: { kind: 'reuse', sessionId: session.id } };
    }

    use.check?.(session);
    const refreshToken = newToken();
    return {
      result: { kind: 'rotated', rotation: { session: { ...session, last_used_at: now }, user, refreshToken } },
      writes: { successor: newTokenRow(session.id, refreshToken, now), successorSealed: seal(presented, refreshToken), now, ip: use.ip, userAgent: use.userAgent },
    };
  }
}
