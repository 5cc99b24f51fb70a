/** SPEC §9: managing the account itself (sessions, password, two-factor); users only, never client_credentials. */
export const ACCOUNT_SCOPE = 'account';
/** What a user gets when `scope` is omitted (SPEC §3.3, §9). */
export const USER_SCOPES = [
  'tasks:read',
  'tasks:write',
  'calendar:read',
  'calendar:write',
  'messages:read',
  'messages:write',
  ACCOUNT_SCOPE,
] as const;
export const ADMIN_SCOPE = 'admin';
export const PUSH_SCOPE = 'push';
export const ALL_SCOPES = [...USER_SCOPES, ADMIN_SCOPE, PUSH_SCOPE] as const;

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
