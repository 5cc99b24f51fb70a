import { OIDC_SCOPES, scopesForRoles, USER_SCOPES, parseScope } from '../auth/scopes';
import type { ClientRow } from '../db/queries/clients';
import type { UserRow } from '../db/queries/users';
import type { Services } from '../services';
import { tokenResponse, type GrantContext, type TokenResponse } from './grant';
import { grantScopes } from './grant-scopes';

/** The scopes a user gets through a client: their roles' scopes within the client's, narrowed to `requested` (SPEC §3.3). */
export function userScopes(user: UserRow, client: ClientRow, requested: string | undefined): string[] {
  const clientScope = new Set(parseScope(client.scope));
  const allowed = [...scopesForRoles(user.roles), ...OIDC_SCOPES].filter((s) => clientScope.has(s));
  return grantScopes(requested, allowed, USER_SCOPES);
}

/** Starts a session for a user who has proved who they are (password, and the second factor when on) and issues its tokens. */
export async function startUserSession(
  { config, tenantId, refreshTokens, accessTokens }: Services,
  user: UserRow,
  scopes: readonly string[],
  { client, ip, userAgent }: GrantContext,
): Promise<TokenResponse> {
  const now = Date.now();
  const { session, refreshToken } = await refreshTokens.startSession(
    { tenantId, userId: user.id, clientId: client.id, scope: scopes.join(' '), ip, userAgent, lifetime: config.refreshTokenTtl },
    now,
  );
  const access = accessTokens.issue(
    { subject: user.id, username: user.username, clientId: client.id, scopes, roles: user.roles, sessionId: session.id },
    now,
  );
  return tokenResponse(access, scopes, refreshToken);
}
