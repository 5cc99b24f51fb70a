import { z } from 'zod';
import { parseScope } from '../../auth/scopes';
import { AuthorizationCodes } from '../../authorize/authorization-codes';
import { invalidGrant } from '../../errors';
import type { Services } from '../../services';
import { defineGrant } from '../grant';
import { startUserSession } from '../user-session';
import { idTokenFor } from '../../oidc/id-token';

const parameters = z.object({
  code: z.string().min(1).max(256),
  redirect_uri: z.string().min(1).max(2000).optional(),
  code_verifier: z.string().min(1).max(256),
});

/**
 * RFC 6749 §4.1.3 with PKCE (RFC 7636 §4.5), SPEC §10: the code is used up by its own client, with
 * its redirect URI and verifier, while the sign-in it came from lasts. The tokens get a session of
 * their own, started by that browser session (logging out of it ends them); a refresh token only
 * for clients that may refresh, and third-party ones only with `offline_access`; an id_token with `openid`.
 */
export const createAuthorizationCodeGrant = (services: Services) => {
  const { tenantId, users, sessions } = services;
  const codes = new AuthorizationCodes(services);
  return defineGrant({
    grantType: 'authorization_code',
    parameters,
    async handle({ code: presented, redirect_uri: redirectUri, code_verifier: verifier }, context) {
      const { client } = context;
      const now = Date.now();
      const redemption = await codes.redeem(presented, client.id, redirectUri, verifier);
      const { code, sessionId } = redemption;
      const signIn = await sessions.find(code.browser_session_id);
      if (!signIn || signIn.revoked_at !== null || signIn.expires_at <= now) throw invalidGrant('The sign-in this code came from has ended.');
      const user = await users.queries.findById(tenantId, code.user_id);
      if (!user || user.disabled) throw invalidGrant('The account is disabled.');
      const scopes = parseScope(code.scope);
      const refresh = client.grant_types.includes('refresh_token') && (client.first_party || scopes.includes('offline_access'));
      const response = await startUserSession(services, user, scopes, context, { refresh, id: sessionId, browserSessionId: code.browser_session_id });
      await codes.confirm(redemption);
      if (scopes.includes('openid')) {
        // `sid` names the browser session (OIDC Front-Channel Logout §3): the sign-in the app's session hangs from.
        response.id_token = idTokenFor(
          services,
          { client, user, scopes, sessionId: code.browser_session_id, authTime: code.auth_time, amr: code.amr, nonce: code.nonce ?? undefined, accessToken: response.access_token },
          now,
        );
      }
      return response;
    },
  });
};
