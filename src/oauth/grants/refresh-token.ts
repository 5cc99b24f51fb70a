import { z } from 'zod';
import { parseScope } from '../../auth/scopes';
import type { RotationSession } from '../../db/queries/refresh-rotation';
import { invalidRequest } from '../../errors';
import type { Services } from '../../services';
import { defineGrant, tokenResponse } from '../grant';
import { grantScopes } from '../grant-scopes';

const parameters = z.object({
  refresh_token: z.string().min(1).max(512).optional(),
  scope: z.string().max(1000).optional(),
});

/** RFC 6749 §6 with rotation and reuse detection (SPEC §3.2); the token may come from the browser cookie (§3.5). */
export const createRefreshTokenGrant = ({ refreshTokens, accessTokens }: Services) =>
  defineGrant({
    grantType: 'refresh_token',
    parameters,
    async handle({ refresh_token: bodyToken, scope }, context) {
      const presented = bodyToken ?? context.cookieRefreshToken();
      if (presented === undefined) throw invalidRequest('The refresh_token parameter is missing.');
      // RFC 6749 §6: a narrower scope applies to this access token only.
      const scopesOf = (session: RotationSession) => grantScopes(scope, parseScope(session.scope), parseScope(session.scope));
      const now = Date.now();
      const { session, user, refreshToken } = await refreshTokens.rotate(
        presented,
        // A refused scope must not consume the token: the client could never retry it.
        { tenantId: context.client.tenant_id, clientId: context.client.id, ip: context.ip, userAgent: context.userAgent, dpopJkt: context.dpopJkt, check: scopesOf },
        now,
      );
      const scopes = scopesOf(session);
      const access = accessTokens.issue(
        { subject: user.id, username: user.username, clientId: session.client_id, scopes, roles: user.roles, sessionId: session.id, jkt: context.dpopJkt },
        now,
      );
      context.refreshLifetime = Math.floor((session.expires_at - now) / 1000);
      return tokenResponse(access, scopes, refreshToken);
    },
  });
