import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Request, Response } from 'express';
import { createInteractionQueries, type InteractionRow } from '../db/queries/authorization-interactions';
import { readCookie } from '../http/cookies';
import type { Services } from '../services';
import { PageError } from './authorization-errors';
import type { AuthorizationRequest, Prompt } from './authorization-request';
import { hashCookieSecret, interactionCookieOptions } from './browser-sessions';

/** The cookie that ties a sign-in's forms to the browser it began in (login CSRF). */
export const BROWSER_COOKIE = 'tessera_browser';
const INTERACTION_TTL_MS = 10 * 60_000;

const newSecret = () => randomBytes(32).toString('base64url');

/** An interaction as its forms carry it. */
export interface InteractionHandle {
  readonly id: string;
  readonly csrfToken: string;
}

/** An interaction with the request it serves: what its pages need (their forms lead back to its redirect URI). */
export interface PendingInteraction extends InteractionHandle {
  readonly request: AuthorizationRequest;
}

export interface Interaction extends PendingInteraction {
  /** The user whose password was right, while the second factor is awaited. */
  readonly userId: string | null;
  /** The passkey challenge the login page was last given, if it asked for one. */
  readonly passkeyChallengeId: string | null;
}

type StoredRequest = Omit<AuthorizationRequest, 'prompt'> & { prompt: Prompt[] };

const expired = () => new PageError(400, 'Sign-in expired', 'This sign-in has expired or was already finished. Go back to the application and start again.');
const forged = () => new PageError(403, 'Request refused', 'This form was not sent from the sign-in page of this browser. Go back to the application and start again.');

const sameSecret = (presented: string, expectedHash: string) =>
  timingSafeEqual(Buffer.from(hashCookieSecret(presented), 'hex'), Buffer.from(expectedHash, 'hex'));

/**
 * A sign-in or consent in progress (SPEC §10). Its forms carry its id and a CSRF token stored
 * hashed with it; it also remembers the browser (a SameSite=Lax cookie) it began in, so a form
 * posted from another site, or another browser's form, is refused.
 */
export class Interactions {
  private readonly queries: ReturnType<typeof createInteractionQueries>;

  constructor(private readonly services: Services) {
    this.queries = createInteractionQueries(services.db);
  }

  async start(req: Request, res: Response, request: AuthorizationRequest): Promise<InteractionHandle> {
    const now = Date.now();
    await this.queries.deleteExpired(now);
    let browser = readCookie(req.get('cookie'), BROWSER_COOKIE);
    if (browser === undefined || browser.length > 100) {
      browser = newSecret();
      res.cookie(BROWSER_COOKIE, browser, interactionCookieOptions(res, this.services.config.issuer));
    }
    const handle = { id: newSecret(), csrfToken: newSecret() };
    const stored: StoredRequest = { ...request, prompt: [...request.prompt] };
    await this.queries.insert({
      id: handle.id,
      tenant_id: this.services.tenantId,
      request: JSON.stringify(stored),
      csrf_hash: hashCookieSecret(handle.csrfToken),
      browser_hash: hashCookieSecret(browser),
      user_id: null,
      passkey_challenge_id: null,
      expires_at: now + INTERACTION_TTL_MS,
    });
    return handle;
  }

  /** The interaction a posted form continues, once its CSRF token and browser check out; a `PageError` otherwise. */
  async resume(req: Request, form: Record<string, unknown>): Promise<Interaction> {
    const { interaction: id, csrf_token: csrfToken } = form;
    if (typeof id !== 'string' || typeof csrfToken !== 'string' || id.length > 100 || csrfToken.length > 100) throw forged();
    const row = await this.queries.findLive(this.services.tenantId, id, Date.now());
    if (!row) throw expired();
    const browser = readCookie(req.get('cookie'), BROWSER_COOKIE);
    if (browser === undefined || !sameSecret(browser, row.browser_hash) || !sameSecret(csrfToken, row.csrf_hash)) throw forged();
    return this.toInteraction(row, csrfToken);
  }

  /** Names the user the interaction is for: whose password was right (awaiting the second factor), or who is asked to consent. */
  async setUser(handle: InteractionHandle, userId: string): Promise<void> {
    await this.queries.setUser(handle.id, userId);
  }

  /** Binds a passkey challenge to the interaction: a discoverable challenge names no user, so the interaction is what it belongs to. */
  async setPasskeyChallenge(handle: InteractionHandle, challengeId: string): Promise<void> {
    await this.queries.setPasskeyChallenge(handle.id, challengeId);
  }

  /** Ends the interaction; a `PageError` when a concurrent request (a double submit) ended it first. */
  async finish(interaction: Interaction): Promise<void> {
    if (!(await this.queries.remove(interaction.id))) throw expired();
  }

  private toInteraction(row: InteractionRow, csrfToken: string): Interaction {
    const stored = JSON.parse(row.request) as StoredRequest;
    return { id: row.id, csrfToken, userId: row.user_id, passkeyChallengeId: row.passkey_challenge_id, request: { ...stored, prompt: new Set(stored.prompt) } };
  }
}
