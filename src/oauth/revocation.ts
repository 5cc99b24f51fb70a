import type { Request, Response } from 'express';
import { z } from 'zod';
import { parse } from '../http/validation';
import type { Services } from '../services';
import { authenticateClient } from './client-auth';
import { noStore, oauthParameters } from './token-endpoint';

const parameters = z.object({
  token: z.string().min(1).max(8192),
  token_type_hint: z.string().max(64).optional(),
});

const looksLikeJwt = (token: string) => token.split('.').length === 3;

/**
 * RFC 7009: a refresh token or an access token revokes its whole session.
 * Unknown tokens, and tokens of other clients, still get 200 (§2.2), so
 * the endpoint tells nothing about tokens the caller does not hold.
 */
export function revocationEndpoint(services: Services): (req: Request, res: Response) => Promise<void> {
  const { clients, tenantId, accessTokens, refreshTokens, sessions } = services;
  return async (req, res) => {
    noStore(res);
    const body = oauthParameters(req);
    const client = await authenticateClient(clients, tenantId, req.get('authorization'), body);
    const { token } = parse(parameters, body, 'oauth');
    const sessionId = looksLikeJwt(token) ? await accessTokens.sessionIdOf(token) : (await refreshTokens.describe(tenantId, token))?.session.id;
    const session = sessionId === undefined ? undefined : await sessions.find(sessionId);
    if (session && session.client_id === client.id) await sessions.revoke({ id: session.id }, 'token_revocation');
    res.status(200).end();
  };
}
