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

/** How a code-flow sign-in's session differs from a password grant's (SPEC §10). */
export interface SessionOptions {
  /** False when the client gets no refresh token: the session then lasts as long as its access token. */
  readonly refresh?: boolean;
  readonly id?: string;
  readonly browserSessionId?: string;
}

/** Starts a session for a user who has proved who they are (password, and the second factor when on) and issues its tokens. */
export async function startUserSession(
  { config, tenantId, refreshTokens, accessTokens, sessions }: Services,
  user: UserRow,
  scopes: readonly string[],
  { client, ip, userAgent, dpopJkt }: GrantContext,
  { refresh = true, ...link }: SessionOptions = {},
): Promise<TokenResponse> {
  const now = Date.now();
  const start = { tenantId, userId: user.id, clientId: client.id, scope: scopes.join(' '), ip, userAgent, ...link };
  // RFC 9449 §5.0: a public client's refresh tokens are bound to its key; a confidential client's to its authentication.
  const binding = { dpopJkt: client.confidential ? undefined : dpopJkt };
  const { session, refreshToken } = refresh
    ? await refreshTokens.startSession({ ...start, ...binding, lifetime: config.refreshTokenTtl }, now)
    : { session: await sessions.start({ ...start, lifetime: config.accessTokenTtl }, now), refreshToken: undefined };
  const access = accessTokens.issue(
    { subject: user.id, username: user.username, clientId: client.id, scopes, roles: user.roles, sessionId: session.id, jkt: dpopJkt },
    now,
  );
  return tokenResponse(access, scopes, refreshToken);
}
