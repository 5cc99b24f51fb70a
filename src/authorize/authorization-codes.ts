import { hash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { createAuthorizationCodeQueries, type AuthorizationCodeRow } from '../db/queries/authorization-codes';
import { invalidGrant } from '../errors';
import type { Services } from '../services';

/** RFC 9700 §4.2.1 recommends short-lived codes; SPEC §10 says at most 60 s. */
export const CODE_TTL_MS = 60_000;

const hashCode = (code: string) => hash('sha256', code, 'hex');

/** What a code carries from the authorization endpoint to the token endpoint. */
export interface CodeGrant {
  readonly clientId: string;
  readonly userId: string;
  readonly redirectUri: string;
  readonly codeChallenge: string;
  readonly nonce: string | undefined;
  readonly scopes: readonly string[];
  readonly browserSessionId: string;
  /** Epoch ms the person last signed in. */
  readonly authTime: number;
  /** RFC 8176 methods of that sign-in, space-separated (null: not recorded). */
  readonly amr: string | null;
}

/** A redeemed code: its grant and the id the session it starts must take. */
export interface Redemption {
  readonly code: AuthorizationCodeRow;
  readonly sessionId: string;
}

const s256 = (verifier: string) => hash('sha256', verifier, 'base64url');
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/; // RFC 7636 §4.1

/** Authorization codes: single use, one minute, stored hashed, bound to client, redirect URI, PKCE challenge and the sign-in. */
export class AuthorizationCodes {
  private readonly queries: ReturnType<typeof createAuthorizationCodeQueries>;

  constructor(private readonly services: Pick<Services, 'db' | 'tenantId' | 'sessions' | 'clock'>) {
    this.queries = createAuthorizationCodeQueries(services.db);
  }

  async issue(grant: CodeGrant, now = this.services.clock()): Promise<string> {
    await this.queries.deleteExpired(now - CODE_TTL_MS);
    const code = randomBytes(32).toString('base64url');
    await this.queries.insert({
      code_hash: hashCode(code),
      tenant_id: this.services.tenantId,
      client_id: grant.clientId,
      user_id: grant.userId,
      redirect_uri: grant.redirectUri,
      code_challenge: grant.codeChallenge,
      nonce: grant.nonce ?? null,
      scope: grant.scopes.join(' '),
      browser_session_id: grant.browserSessionId,
      auth_time: grant.authTime,
      amr: grant.amr,
      expires_at: now + CODE_TTL_MS,
      used_at: null,
      issued_session_id: null,
      replayed_at: null,
    });
    return code;
  }

  /**
   * Uses a code up for the client (RFC 6749 §4.1.3, RFC 7636 §4.6): `invalid_grant` for an unknown,
   * expired or foreign code, another redirect URI or a wrong verifier. A code presented again
   * revokes the session its first use started (RFC 6749 §4.1.2).
   */
  async redeem(code: string, clientId: string, redirectUri: string | undefined, verifier: string, now = this.services.clock()): Promise<Redemption> {
    const codeHash = hashCode(code);
    const row = await this.queries.find(this.services.tenantId, codeHash);
    if (!row || row.client_id !== clientId) throw invalidGrant('The authorization code is invalid.');
    const sessionId = randomUUID();
    if (!(await this.queries.consume(codeHash, sessionId, now))) {
      const issued = await this.queries.markReplayed(codeHash, now);
      if (issued) await this.services.sessions.revoke({ id: issued }, 'authorization_code_reuse', now);
      throw invalidGrant('The authorization code was already used; what it issued has been revoked.', `code reuse, session ${issued ?? 'none'}`);
    }
    if (row.expires_at <= now) throw invalidGrant('The authorization code has expired.');
    if (redirectUri !== row.redirect_uri) throw invalidGrant('redirect_uri is not the one the code was issued for.');
    const expected = Buffer.from(row.code_challenge);
    const actual = Buffer.from(VERIFIER.test(verifier) ? s256(verifier) : '');
    if (expected.length !== actual.length || !timingSafeEqual(expected, actual)) throw invalidGrant('The code_verifier does not match the code_challenge.');
    return { code: row, sessionId };
  }

  /**
   * Called once the session of a redemption has started: a replay that came while it was starting
   * found no session to revoke, so the session is revoked here and the answer is `invalid_grant`.
   */
  async confirm(redemption: Redemption, now = this.services.clock()): Promise<void> {
    if (!(await this.queries.wasReplayed(redemption.code.code_hash))) return;
    await this.services.sessions.revoke({ id: redemption.sessionId }, 'authorization_code_reuse', now);
    throw invalidGrant('The authorization code was used twice; what it issued has been revoked.');
  }
}
