import type { RequestHandler } from 'express';
import type { AccessTokens, Principal } from '../auth/access-tokens';
import { authenticate, bearerToken, requireScope } from '../auth/authenticate';
import { forbidden } from '../errors';

export interface BearerOptions {
  /** The scope the route needs; or one scope for user tokens and another for client tokens. */
  readonly scope?: string | { readonly user: string; readonly client: string };
  /** Only tokens issued to a user (not client_credentials). */
  readonly user?: boolean;
  /** Only client_credentials tokens. */
  readonly client?: boolean;
}

export type RequireToken = (options?: BearerOptions) => RequestHandler;

function check(principal: Principal, { scope, user, client }: BearerOptions): void {
  if (user && principal.kind !== 'user') throw forbidden('This endpoint needs a token issued to a user.');
  if (client && principal.kind !== 'client') throw forbidden('This endpoint needs a client_credentials token.');
  const needed = typeof scope === 'object' ? scope[principal.kind] : scope;
  if (needed !== undefined) requireScope(principal, needed);
}

/** Builds the bearer middleware: sets `req.principal` or answers per RFC 6750. */
export function bearer(accessTokens: AccessTokens): RequireToken {
  return (options = {}) =>
    async (req, _res, next) => {
      const principal = await authenticate(accessTokens, bearerToken(req.get('authorization')));
      check(principal, options);
      req.principal = principal;
      next();
    };
}
