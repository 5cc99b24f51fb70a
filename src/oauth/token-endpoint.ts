import type { Request, Response } from 'express';
import { z } from 'zod';
import { invalidRequest, serverError, unauthorizedClient, unsupportedGrantType } from '../errors';
import { parse } from '../http/validation';
import type { Services } from '../services';
import { authenticateClient } from './client-auth';
import type { GrantType } from './clients';
import { supportedGrantTypes, type Grant, type GrantContext } from './grant';
import { createAuthorizationCodeGrant } from './grants/authorization-code';
import { createClientCredentialsGrant } from './grants/client-credentials';
import { createMfaGrant } from './grants/mfa';
import { createPasswordGrant } from './grants/password';
import { createRefreshTokenGrant } from './grants/refresh-token';
import { assertCookieIssuanceAllowed, cookieRefreshToken, setRefreshCookie } from './refresh-cookie';
import { tokenRequestJkt } from './token-dpop';

const envelope = z.object({
  grant_type: z.string().min(1).max(200),
  refresh_in_cookie: z.enum(['true', 'false']).optional(),
});

/** OAuth requests are flat: every parameter is one string (RFC 6749 §3.1: no repeats). */
export function oauthParameters(req: Request): Record<string, unknown> {
  const body: unknown = req.body ?? {};
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalidRequest('The request body must be a set of parameters.');
  for (const [name, value] of Object.entries(body)) {
    if (typeof value !== 'string') throw invalidRequest(`The parameter "${name}" must be a single string.`);
  }
  return body as Record<string, unknown>;
}

export function noStore(res: Response): void {
  res.set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' });
}

/**
 * `POST /token` as a short pipeline: parameters → cookie Origin → client → grant lookup →
 * grant allowed for the client → grant parameters → DPoP proof → grant
 * handler → response (or refresh cookie).
 */
export function tokenEndpoint(services: Services): (req: Request, res: Response) => Promise<void> {
  const { clients, tenantId, config } = services;
  const supported = new Set(supportedGrantTypes(config));
  const grants = new Map<string, Grant>(
    [
      createPasswordGrant(services),
      createRefreshTokenGrant(services),
      createClientCredentialsGrant(services),
      createMfaGrant(services),
      createAuthorizationCodeGrant(services),
    ]
      .filter((grant) => supported.has(grant.grantType))
      .map((grant) => [grant.grantType, grant as Grant]),
  );

  return async (req, res) => {
    noStore(res);
    const body = oauthParameters(req);
    const { grant_type: grantType, refresh_in_cookie: inCookie } = parse(envelope, body, 'oauth');
    // Before anything is spent: a refused cookie login creates no session and rotates no token.
    if (inCookie === 'true') assertCookieIssuanceAllowed(req, config);
    const grant = grants.get(grantType);
    if (!grant) throw unsupportedGrantType(grantType);
    const client = await authenticateClient(clients, tenantId, req.get('authorization'), body);
    if (!client.grant_types.includes(grant.clientGrant ?? (grant.grantType as GrantType))) {
      throw unauthorizedClient(`This client may not use the ${grant.grantType} grant.`);
    }
    const parameters: unknown = parse(grant.parameters, body, 'oauth');
    const dpopJkt = await tokenRequestJkt(services, req, res, client);
    let usedCookie = false;
    const context: GrantContext = {
      client,
      ip: req.ip ?? null,
      userAgent: req.get('user-agent')?.slice(0, 512) ?? null,
      dpopJkt,
      cookieRefreshToken: () => {
        const token = cookieRefreshToken(req, config);
        usedCookie = token !== undefined;
        return token;
      },
      refreshLifetime: config.refreshTokenTtl,
    };
    const response = await grant.handle(parameters, context).finally(() => {
      res.locals.credentialsAccepted = context.credentialsAccepted === true;
    });
    // A grant that ignored the proof would hand out a bearer token the client asked to have bound.
    if (dpopJkt !== undefined && response.token_type !== 'DPoP') throw serverError(`the ${grant.grantType} grant issued an unbound token for a DPoP request`);
    services.metrics.tokensIssued.inc({ grant: grant.grantType });
    if (response.refresh_token !== undefined && (inCookie === 'true' || usedCookie)) {
      setRefreshCookie(res, config, response.refresh_token, context.refreshLifetime ?? config.refreshTokenTtl);
      delete response.refresh_token;
    }
    res.json(response);
  };
}
