import type { Request, Response } from 'express';
import type { ClientRow } from '../db/queries/clients';
import type { UserRow } from '../db/queries/users';
import { ApiError } from '../errors';
import { consentPage } from '../pages/consent-page';
import { loginPage } from '../pages/login-page';
import { userScopes } from '../oauth/user-session';
import type { Services } from '../services';
import { AuthorizationError, authorizationError, PageError } from './authorization-errors';
import { authorizationRequest, rawParameters, responseTarget, type AuthorizationRequest, type ResponseTarget } from './authorization-request';
import { respond, respondWithError } from './authorization-response';
import { AuthorizationCodes } from './authorization-codes';
import { BrowserSessions } from './browser-sessions';
import { Consents } from './consents';
import { Interactions, type PendingInteraction } from './interactions';
import { pageFrame, sendErrorPage, sendPage } from './page-response';
import { describeScope } from './scope-descriptions';
import type { BrowserSession } from '../db/queries/browser-sessions';

/** A signed-in person at the authorization server. */
export interface SignedIn {
  readonly session: BrowserSession;
  readonly user: UserRow;
}

/**
 * The authorization endpoint's decisions (SPEC §10): check the request, then sign in (when there is
 * no browser session, or `prompt=login` / `max_age` ask for a fresh one), then consent (third-party
 * clients, for scopes not granted before), then a code to the redirect URI.
 */
export class AuthorizationFlow {
  readonly frame = pageFrame();
  readonly browserSessions: BrowserSessions;
  readonly interactions: Interactions;
  readonly consents: Consents;
  private readonly codes: AuthorizationCodes;

  constructor(readonly services: Services) {
    this.browserSessions = new BrowserSessions(services);
    this.interactions = new Interactions(services);
    this.consents = new Consents(services);
    this.codes = new AuthorizationCodes(services);
  }

  /** `GET|POST /authorize`: an error page for a bad client or redirect URI, an error redirect for the rest. */
  async authorize(req: Request, res: Response, raw: Record<string, unknown>): Promise<void> {
    const { clientId, values, repeated } = rawParameters(raw);
    const client = clientId === undefined ? undefined : await this.services.clients.queries.find(this.services.tenantId, clientId);
    let target: ResponseTarget;
    try {
      target = responseTarget(client, values, repeated);
    } catch (error) {
      if (error instanceof PageError) return sendErrorPage(res, this.frame, error);
      throw error;
    }
    await this.answering(res, target, async () => {
      const request = authorizationRequest(client!, target, values, repeated);
      const current = await this.browserSessions.current(req);
      if (!current || this.needsFreshSignIn(request, current)) {
        if (request.prompt.has('none')) throw authorizationError('login_required', 'The user is not signed in.');
        const handle = await this.interactions.start(req, res, request);
        this.showLogin(res, client!, { ...handle, request }, request.loginHint ?? '');
        return;
      }
      await this.proceed(req, res, client!, request, { session: current, user: current.user });
    });
  }

  /** Runs a step of a request whose redirect URI is known: its errors go back to the client. */
  async answering(res: Response, target: ResponseTarget, step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (error) {
      if (error instanceof PageError) return sendErrorPage(res, this.frame, error);
      if (error instanceof AuthorizationError) return respondWithError(res, this.frame, this.services.config.issuer, target, error.code, error.description);
      // invalid_scope from the user's roles, and the like: still the client's to hear (RFC 6749 §4.1.2.1).
      if (error instanceof ApiError && error.status < 500 && error.status !== 429) {
        return respondWithError(res, this.frame, this.services.config.issuer, target, error.code, error.description);
      }
      throw error;
    }
  }

  /** The client of a continued interaction; it may have been removed meanwhile. */
  async clientOf(request: AuthorizationRequest): Promise<ClientRow> {
    const client = await this.services.clients.queries.find(this.services.tenantId, request.clientId);
    if (!client) throw new PageError(400, 'Unknown application', 'The application you were signing in to is no longer registered.');
    return client;
  }

  /** Signed in: consent when needed, else the code. */
  async proceed(req: Request, res: Response, client: ClientRow, request: AuthorizationRequest, signedIn: SignedIn): Promise<void> {
    const scopes = userScopes(signedIn.user, client, request.scope);
    const asks = request.prompt.has('consent') || !(await this.consents.covers(signedIn.user.id, client.id, scopes));
    if (!client.first_party && asks) {
      if (request.prompt.has('none')) throw authorizationError('consent_required', 'The user has not allowed this application yet.');
      const handle = await this.interactions.start(req, res, request);
      await this.interactions.setUser(handle, signedIn.user.id);
      this.showConsent(res, client, { ...handle, request }, signedIn.user, scopes);
      return;
    }
    await this.issueCode(res, client, request, signedIn, scopes);
  }

  async issueCode(res: Response, client: ClientRow, request: AuthorizationRequest, { session, user }: SignedIn, scopes: readonly string[]): Promise<void> {
    const code = await this.codes.issue({
      clientId: client.id,
      userId: user.id,
      redirectUri: request.redirectUri,
      codeChallenge: request.codeChallenge,
      nonce: request.nonce,
      scopes,
      browserSessionId: session.session_id,
      authTime: session.auth_time,
      amr: session.amr,
    });
    respond(res, this.frame, this.services.config.issuer, request, { code });
  }

  showLogin(res: Response, client: ClientRow, handle: PendingInteraction, username: string, error?: string, status = 200): void {
    const action = `${res.req.baseUrl}/authorize/login`;
    const forgotPasswordUrl = `${res.req.baseUrl}/`;
    const passkey = { optionsUrl: `${res.req.baseUrl}/authorize/passkey/options`, action: `${res.req.baseUrl}/authorize/passkey` };
    sendPage(res, status, loginPage(this.frame, { action, interaction: handle.id, csrfToken: handle.csrfToken, clientName: client.name, username, forgotPasswordUrl, passkey, ...(error ? { error } : {}) }), {
      redirectUri: handle.request.redirectUri,
      ...(error ? { problem: { code: 'invalid_grant', description: error } } : {}),
    });
  }

  showConsent(res: Response, client: ClientRow, handle: PendingInteraction, user: UserRow, scopes: readonly string[]): void {
    const page = consentPage(this.frame, {
      action: `${res.req.baseUrl}/authorize/consent`,
      interaction: handle.id,
      csrfToken: handle.csrfToken,
      client: { name: client.name, uri: client.client_uri, logoUri: client.logo_uri },
      username: user.username,
      scopes: scopes.map(describeScope),
    });
    sendPage(res, 200, page, { image: client.logo_uri, redirectUri: handle.request.redirectUri });
  }

  /** OIDC Core §3.1.2.1: `prompt=login` always, `max_age` once the last sign-in is older. */
  private needsFreshSignIn(request: AuthorizationRequest, current: BrowserSession): boolean {
    if (request.prompt.has('login')) return true;
    return request.maxAge !== undefined && Date.now() - current.auth_time > request.maxAge * 1000;
  }
}
