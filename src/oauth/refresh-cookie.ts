import type { Request, Response } from 'express';
import type { Config } from '../config';
import { forbidden, invalidRequest } from '../errors';
import { readCookie } from '../http/cookies';

export const REFRESH_COOKIE = 'tessera_rt';

// Path=/ at the root; a tenant under /t/<id> keeps its cookie to its own paths (SPEC §8).
const cookieOptions = (res: Response, config: Config) =>
  ({ httpOnly: true, sameSite: 'strict', path: res.req.baseUrl || '/', secure: config.issuer.startsWith('https:') }) as const;

/** SPEC §3.5: the refresh token as an HttpOnly, SameSite=Strict cookie. */
export function setRefreshCookie(res: Response, config: Config, token: string, maxAgeSeconds: number): void {
  res.cookie(REFRESH_COOKIE, token, { ...cookieOptions(res, config), maxAge: maxAgeSeconds * 1000 });
}

export function clearRefreshCookie(res: Response, config: Config): void {
  res.clearCookie(REFRESH_COOKIE, cookieOptions(res, config));
}

/** The one Origin rule for the refresh cookie, set or read: this server's own origin, or one in `CORS_ORIGINS`. */
function originAllowed(req: Request, config: Config, origin: string): boolean {
  if (origin === new URL(config.issuer).origin) return true;
  if (origin === `${req.protocol}://${req.get('host') ?? ''}`) return true;
  return config.corsOrigins.includes(origin);
}

/**
 * The refresh token from the cookie, accepted only when the request's
 * Origin is this server's or an allowed one: the cookie alone must never
 * be enough for a cross-site request to mint tokens.
 */
export function cookieRefreshToken(req: Request, config: Config): string | undefined {
  const token = readCookie(req.get('cookie'), REFRESH_COOKIE);
  if (token === undefined) return undefined;
  const origin = req.get('origin');
  if (origin === undefined || !originAllowed(req, config, origin)) {
    throw invalidRequest('The refresh cookie is accepted only from this site or an allowed Origin.');
  }
  return token;
}

/**
 * Login CSRF (SPEC §9): a cross-site form must not sign a browser into
 * someone else's account, so the cookie is set only for this site or an
 * allowed Origin. Browsers send Origin on every cross-site POST; a request
 * without one is no browser's, and a cookie it receives lands in no victim's jar.
 */
export function assertCookieIssuanceAllowed(req: Request, config: Config): void {
  const origin = req.get('origin');
  if (origin !== undefined && !originAllowed(req, config, origin)) {
    throw forbidden('The refresh cookie is set only for this site or an allowed Origin.');
  }
}
