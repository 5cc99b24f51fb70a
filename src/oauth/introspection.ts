import type { Request, Response } from 'express';
import { z } from 'zod';
import { invalidClient } from '../errors';
import { parse } from '../http/validation';
import type { Services } from '../services';
import { authenticateClient } from './client-auth';
import { noStore, oauthParameters } from './token-endpoint';

const parameters = z.object({
  token: z.string().min(1).max(8192),
  token_type_hint: z.string().max(64).optional(),
});

const seconds = (ms: number) => Math.floor(ms / 1000);

/** RFC 7662: only confidential clients may ask; anything expired, revoked or unknown is `{active: false}`. */
export function introspectionEndpoint(services: Services): (req: Request, res: Response) => Promise<void> {
  const { clients, tenantId, accessTokens, refreshTokens, users, config } = services;

  async function describe(token: string): Promise<Record<string, unknown>> {
    const principal = await accessTokens.verify(token).catch(() => undefined);
    if (principal) {
      return {
        active: true,
        token_type: principal.jkt === undefined ? 'Bearer' : 'DPoP',
        scope: [...principal.scopes].join(' '),
        client_id: principal.clientId,
        username: principal.username,
        sub: principal.subject,
        aud: config.audience,
        iss: config.issuer,
        exp: principal.expiresAt,
        iat: principal.issuedAt,
        jti: principal.tokenId,
        sid: principal.sessionId,
        // RFC 9449 §6.2: the key a bound token is confirmed by.
        ...(principal.jkt === undefined ? {} : { cnf: { jkt: principal.jkt } }),
      };
    }
    const state = await refreshTokens.describe(tenantId, token);
    if (!state || state.rotated || !refreshTokens.isLive(state.session, Date.now())) return { active: false };
    const { session } = state;
    const user = session.user_id === null ? undefined : await users.queries.findById(tenantId, session.user_id);
    if (!user || user.disabled) return { active: false };
    return {
      active: true,
      token_type: 'refresh_token',
      scope: session.scope,
      client_id: session.client_id,
      username: user.username,
      sub: user.id,
      iss: config.issuer,
      exp: seconds(session.expires_at),
      iat: seconds(state.issuedAt),
      sid: session.id,
      ...(session.dpop_jkt === null ? {} : { cnf: { jkt: session.dpop_jkt } }),
    };
  }

  return async (req, res) => {
    noStore(res);
    const body = oauthParameters(req);
    const client = await authenticateClient(clients, tenantId, req.get('authorization'), body);
    if (!client.confidential) throw invalidClient('Introspection needs an authenticated confidential client.');
    const { token } = parse(parameters, body, 'oauth');
    res.json(await describe(token));
  };
}
