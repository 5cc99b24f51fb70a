import { z } from 'zod';
import { scopesForRoles, USER_SCOPES, parseScope } from '../../auth/scopes';
import { invalidGrant } from '../../errors';
import type { Services } from '../../services';
import { defineGrant, tokenResponse } from '../grant';
import { grantScopes } from '../grant-scopes';

const parameters = z.object({
  username: z.string().min(1).max(256),
  password: z.string().min(1).max(1024),
  scope: z.string().max(1000).optional(),
});

/** RFC 6749 §4.3: username and password for an access token, a refresh token and a new session. */
export const createPasswordGrant = ({ db, config, tenantId, users, sessions, refreshTokens, accessTokens, metrics }: Services) =>
  defineGrant({
    grantType: 'password',
    parameters,
    async handle({ username, password, scope }, { client, ip, userAgent }) {
      const user = await users.authenticate(tenantId, username, password);
      if (!user) {
        metrics.failedLogins.inc();
        throw invalidGrant('The username or password is wrong.');
      }
      const clientScope = new Set(parseScope(client.scope));
      const allowed = scopesForRoles(user.roles).filter((s) => clientScope.has(s));
      const scopes = grantScopes(scope, allowed, USER_SCOPES);
      const now = Date.now();
      const { session, refreshToken } = await db.transaction(async (trx) => {
        const started = await sessions.start(
          { tenantId, userId: user.id, clientId: client.id, scope: scopes.join(' '), ip, userAgent, lifetime: config.refreshTokenTtl },
          now,
          trx,
        );
        return { session: started, refreshToken: await refreshTokens.issue(started.id, now, trx) };
      });
      const access = accessTokens.issue(
        { subject: user.id, username: user.username, clientId: client.id, scopes, roles: user.roles, sessionId: session.id },
        now,
      );
      return tokenResponse(access, scopes, refreshToken);
    },
  });
