import { z } from 'zod';
import { ADMIN_SCOPE, OIDC_SCOPES, parseScope } from '../../auth/scopes';
import { unauthorizedClient } from '../../errors';
import type { Services } from '../../services';
import { defineGrant, tokenResponse } from '../grant';
import { grantScopes } from '../grant-scopes';

const parameters = z.object({ scope: z.string().max(1000).optional() });

/**
 * RFC 6749 §4.4: a confidential client's own access token, `sub` = client id.
 * It gets a short session of its own so that revocation works as for users.
 */
export const createClientCredentialsGrant = ({ config, tenantId, sessions, accessTokens }: Services) =>
  defineGrant({
    grantType: 'client_credentials',
    parameters,
    async handle({ scope }, { client, ip, userAgent }) {
      if (!client.confidential) throw unauthorizedClient('Only a confidential client may use client_credentials.');
      // SPEC §3.3: `admin` is for users with the admin role; a client's scope may list it (and the
      // OpenID Connect scopes, which are about a user) for its users, never for itself.
      const forUsersOnly = new Set<string>([ADMIN_SCOPE, ...OIDC_SCOPES]);
      const allowed = parseScope(client.scope).filter((s) => !forUsersOnly.has(s));
      const scopes = grantScopes(scope, allowed, allowed);
      const now = Date.now();
      const session = await sessions.start(
        { tenantId, userId: null, clientId: client.id, scope: scopes.join(' '), ip, userAgent, lifetime: config.accessTokenTtl },
        now,
      );
      const access = accessTokens.issue({ subject: client.id, clientId: client.id, scopes, roles: [], sessionId: session.id }, now);
      return tokenResponse(access, scopes);
    },
  });
