import { hash, timingSafeEqual } from 'node:crypto';
import jwt from 'jsonwebtoken';
import type { Request, Response } from 'express';
import { readCookie } from '../http/cookies';
import { messagePage } from '../pages/message-page';
import { signOutPage } from '../pages/sign-out-page';
import { BROWSER_SESSION_COOKIE } from './browser-sessions';
import { PageError } from './authorization-errors';
import type { AuthorizationFlow } from './authorization-flow';
import { sendErrorPage, sendPage } from './page-response';

interface Hint {
  readonly clientId: string | undefined;
  readonly subject: string | undefined;
  readonly sessionId: string | undefined;
}

const badHint = () => new PageError(400, 'Sign-out refused', 'The application sent a sign-out request this server did not issue.');
const str = (value: unknown) => (typeof value === 'string' && value !== '' && value.length <= 4000 ? value : undefined);

/**
 * OIDC RP-Initiated Logout 1.0 (SPEC §10) at `end_session_endpoint`: ends the browser session and
 * every token session it started, then returns to `post_logout_redirect_uri` only when it is
 * registered for the client, with `state`; otherwise it shows a signed-out page. Without an
 * id_token_hint of the signed-in person it asks first, with a CSRF-protected form.
 */
export class EndSession {
  constructor(private readonly flow: AuthorizationFlow) {}

  async handle(req: Request, res: Response, raw: Record<string, unknown>): Promise<void> {
    const { config, clients, tenantId, sessions } = this.flow.services;
    try {
      const hint = str(raw.id_token_hint) === undefined ? undefined : await this.verifyHint(str(raw.id_token_hint)!);
      const clientId = str(raw.client_id) ?? hint?.clientId;
      if (hint?.clientId !== undefined && str(raw.client_id) !== undefined && hint.clientId !== str(raw.client_id)) throw badHint();
      const current = await this.flow.browserSessions.current(req);
      const client = clientId === undefined ? undefined : await clients.queries.find(tenantId, clientId);
      const target = str(raw.post_logout_redirect_uri);
      const returnTo = client && target !== undefined && client.post_logout_redirect_uris.includes(target) ? target : undefined;
      // A request that proves nothing (no hint of this person's sign-in, no confirmation) could come from any site: ask first.
      const proven = hint !== undefined && (hint.sessionId === current?.session_id || hint.subject === current?.user.id);
      if (current && !proven && !this.confirmed(req, raw)) {
        const fields = Object.fromEntries(
          [['csrf_token', this.csrfToken(req)], ['client_id', clientId], ['post_logout_redirect_uri', returnTo], ['state', str(raw.state)]].filter((pair): pair is [string, string] => pair[1] !== undefined),
        );
        sendPage(res, 200, signOutPage(this.flow.frame, { action: `${req.baseUrl}/end-session`, username: current.user.username, fields }), { ...(returnTo ? { redirectUri: returnTo } : {}) });
        return;
      }
      await this.flow.browserSessions.end(res, current?.session_id);
      // The hint names the sign-in its id token came from: end it too, if it is still that user's.
      if (hint?.sessionId !== undefined && hint.sessionId !== current?.session_id) {
        const named = await sessions.find(hint.sessionId);
        if (named?.user_id === hint.subject && named?.tenant_id === tenantId) await this.flow.browserSessions.end(res, named.id);
      }
      if (returnTo !== undefined) {
        const url = new URL(returnTo);
        const state = str(raw.state);
        if (state !== undefined) url.searchParams.append('state', state);
        res.set('Cache-Control', 'no-store').redirect(303, url.href);
        return;
      }
      sendPage(res, 200, messagePage(this.flow.frame, 'Signed out', `You are signed out of ${config.issuer}.`, 'status'));
    } catch (error) {
      if (error instanceof PageError) return sendErrorPage(res, this.flow.frame, error);
      throw error;
    }
  }

  /** The confirmation form's CSRF token: derived from the browser session's cookie, which no other site can read. */
  private csrfToken(req: Request): string {
    return hash('sha256', `tessera end-session\0${readCookie(req.get('cookie'), BROWSER_SESSION_COOKIE) ?? ''}`, 'base64url');
  }

  private confirmed(req: Request, raw: Record<string, unknown>): boolean {
    const presented = str(raw.csrf_token);
    if (req.method !== 'POST' || presented === undefined) return false;
    const expected = Buffer.from(this.csrfToken(req));
    const actual = Buffer.from(presented);
    return expected.length === actual.length && timingSafeEqual(expected, actual);
  }

  /** An id token this server signed (expired ones too: OIDC RP-Initiated Logout §2), for this issuer. */
  private async verifyHint(token: string): Promise<Hint> {
    const { keys, config } = this.flow.services;
    const kid = jwt.decode(token, { complete: true })?.header.kid;
    const key = kid === undefined ? undefined : (keys.verificationKey(kid) ?? (await keys.reloadForUnknownKid(kid)));
    if (!key) throw badHint();
    let claims: jwt.JwtPayload;
    try {
      claims = jwt.verify(token, key.verifyKey, { algorithms: [key.alg], issuer: config.issuer, ignoreExpiration: true }) as jwt.JwtPayload;
    } catch {
      throw badHint();
    }
    const audience = Array.isArray(claims.aud) ? claims.aud[0] : claims.aud;
    return { clientId: str(claims.azp) ?? str(audience), subject: str(claims.sub), sessionId: str(claims.sid) };
  }
}
