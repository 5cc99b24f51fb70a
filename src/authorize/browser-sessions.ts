import { hash, randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';
import { BUILT_IN_CLIENT_ID } from '../oauth/clients';
import { createBrowserSessionQueries, type BrowserSession } from '../db/queries/browser-sessions';
import type { UserRow } from '../db/queries/users';
import { readCookie } from '../http/cookies';
import type { Services } from '../services';

export const BROWSER_SESSION_COOKIE = 'tessera_session';

/** RFC 8176 §2 authentication method references: password, one-time code, hardware key, user presence/verification (biometric or PIN). */
export type AuthenticationMethod = 'pwd' | 'otp' | 'hwk' | 'user';

/** The cookie holds 256 random bits; the database only their SHA-256. */
export const hashCookieSecret = (secret: string) => hash('sha256', secret, 'hex');

/** Cookies of the authorization endpoint: HttpOnly, SameSite=Lax (the code flow arrives by top-level navigation), Secure under https, one tenant's paths. */
export const interactionCookieOptions = (res: Response, issuer: string) =>
  ({ httpOnly: true, sameSite: 'lax', path: res.req.baseUrl || '/', secure: issuer.startsWith('https:') }) as const;

/**
 * The person's sign-in at the authorization server (SPEC §10). It is a tessera session, listed
 * in `GET /sessions` and ended like any other, so revoking it signs the browser out.
 */
export class BrowserSessions {
  private readonly queries: ReturnType<typeof createBrowserSessionQueries>;

  constructor(private readonly services: Services) {
    this.queries = createBrowserSessionQueries(services.db);
  }

  /** The live browser session of this request's cookie, of an enabled user; undefined otherwise. */
  async current(req: Request): Promise<(BrowserSession & { user: UserRow }) | undefined> {
    const secret = readCookie(req.get('cookie'), BROWSER_SESSION_COOKIE);
    if (secret === undefined || secret.length > 100) return undefined;
    const found = await this.queries.findByHash(this.services.tenantId, hashCookieSecret(secret));
    const now = Date.now();
    if (!found || found.session.revoked_at !== null || found.session.expires_at <= now || found.session.user_id === null) return undefined;
    const user = await this.services.users.queries.findById(this.services.tenantId, found.session.user_id);
    return user && !user.disabled ? { ...found, user } : undefined;
  }

  /** Starts a browser session for a user who just signed in by `amr`, and sets its cookie. */
  async start(req: Request, res: Response, user: UserRow, amr: readonly AuthenticationMethod[]): Promise<BrowserSession> {
    const { config, tenantId, sessions } = this.services;
    const now = Date.now();
    const session = await sessions.start(
      { tenantId, userId: user.id, clientId: BUILT_IN_CLIENT_ID, scope: '', ip: req.ip ?? null, userAgent: req.get('user-agent')?.slice(0, 512) ?? null, lifetime: config.refreshTokenTtl },
      now,
    );
    const secret = randomBytes(32).toString('base64url');
    const row = { session_id: session.id, tenant_id: tenantId, secret_hash: hashCookieSecret(secret), auth_time: now, amr: amr.join(' ') };
    await this.queries.insert(row);
    res.cookie(BROWSER_SESSION_COOKIE, secret, { ...interactionCookieOptions(res, config.issuer), maxAge: config.refreshTokenTtl * 1000 });
    return { ...row, session };
  }

  /** Ends a browser session and every token session it started (OIDC RP-Initiated Logout §2), and clears the cookie. */
  async end(res: Response, sessionId: string | undefined): Promise<void> {
    const { sessions, config } = this.services;
    if (sessionId !== undefined) {
      await sessions.revoke({ browserSessionId: sessionId }, 'end_session');
      await sessions.revoke({ id: sessionId }, 'end_session');
    }
    res.clearCookie(BROWSER_SESSION_COOKIE, interactionCookieOptions(res, config.issuer));
  }
}
