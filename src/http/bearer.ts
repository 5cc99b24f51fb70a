import type { RequestHandler } from 'express';
import type { Principal } from '../auth/access-tokens';
import { authenticate, authorizationToken, requireScope, type TokenChecks } from '../auth/authenticate';
import { forbidden } from '../errors';
import { requestTarget } from './dpop-target';

export interface BearerOptions {
  /** The scope the route needs; or one scope for user tokens and another for client tokens. */
  readonly scope?: string | { readonly user: string; readonly client: string };
  /** Only tokens issued to a user (not client_credentials). */
  readonly user?: boolean;
  /** Only client_credentials tokens. */
  readonly client?: boolean;
}

export type RequireToken = (options?: BearerOptions) => RequestHandler;

/** What the token check of a tenant's routes needs: its token checks and its issuer (for DPoP's `htu`). */
export interface BearerChecks extends TokenChecks {
  readonly issuer: string;
}

function check(principal: Principal, { scope, user, client }: BearerOptions): void {
  if (user && principal.kind !== 'user') throw forbidden('This endpoint needs a token issued to a user.');
  if (client && principal.kind !== 'client') throw forbidden('This endpoint needs a client_credentials token.');
  const needed = typeof scope === 'object' ? scope[principal.kind] : scope;
  if (needed !== undefined) requireScope(principal, needed);
}

/** Builds the token middleware: sets `req.principal` or answers per RFC 6750 (Bearer) and RFC 9449 §7 (DPoP). */
export function bearer(checks: BearerChecks): RequireToken {
  const { nonces } = checks.dpop;
  return (options = {}) =>
    async (req, res, next) => {
      const presented = authorizationToken(req.get('authorization'));
      const scheme = presented?.scheme ?? 'Bearer';
      const principal = await authenticate(checks, { token: presented?.token, scheme, proof: req.get('dpop'), target: requestTarget(req, checks.issuer) });
      check(principal, options);
      // RFC 9449 §8: a fresh nonce with every answer to a DPoP request, so the next proof can carry it.
      if (nonces && scheme === 'DPoP') res.set('DPoP-Nonce', await nonces.current());
      req.principal = principal;
      next();
    };
}
