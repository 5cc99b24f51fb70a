/** What a user gets when `scope` is omitted (SPEC §3.3). */
export const USER_SCOPES = [
  'tasks:read',
  'tasks:write',
  'calendar:read',
  'calendar:write',
  'messages:read',
  'messages:write',
] as const;
export const ADMIN_SCOPE = 'admin';
export const PUSH_SCOPE = 'push';
/**
 * OpenID Connect scopes (OIDC Core §3.1.2.1, §5.4, §11). A user may ask for them through any
 * client that may ask for them; none is granted when `scope` is omitted, so the password grant's
 * default stays the resource scopes above and an id token is only for those who ask with `openid`.
 */
export const OIDC_SCOPES = ['openid', 'profile', 'email', 'offline_access'] as const;
export const ALL_SCOPES = [...USER_SCOPES, ADMIN_SCOPE, PUSH_SCOPE, ...OIDC_SCOPES] as const;

/** RFC 6749 §3.3: space-delimited, case-sensitive; duplicates collapse. */
export function parseScope(scope: string | undefined): string[] {
  if (scope === undefined) return [];
  return [...new Set(scope.split(' ').filter(Boolean))];
}

export const formatScope = (scopes: Iterable<string>) => [...scopes].join(' ');

/** The scopes a user may hold, by role: every user scope, plus `admin` for admins. */
export function scopesForRoles(roles: readonly string[]): string[] {
  return roles.includes('admin') ? [...USER_SCOPES, ADMIN_SCOPE] : [...USER_SCOPES];
}
