import type { UserRow } from '../db/queries/users';

/** What of a user the OpenID Connect claims are made of. */
export type ClaimsUser = Pick<UserRow, 'id' | 'username' | 'email' | 'email_verified_at'>;

/** Every claim tessera may put in an id token or a UserInfo answer (OIDC Discovery `claims_supported`). */
export const CLAIMS_SUPPORTED = ['sub', 'iss', 'aud', 'exp', 'iat', 'auth_time', 'amr', 'nonce', 'azp', 'sid', 'at_hash', 'preferred_username', 'email', 'email_verified'] as const;

/**
 * The user's claims the granted scopes release (OIDC Core §5.4): `sub` always, `preferred_username`
 * with `profile`, `email` and `email_verified` with `email` when the account has an address.
 */
export function userClaims(user: ClaimsUser, scopes: Iterable<string>): Record<string, string | boolean> {
  const granted = new Set(scopes);
  return {
    sub: user.id,
    ...(granted.has('profile') && { preferred_username: user.username }),
    ...(granted.has('email') && user.email !== null && { email: user.email, email_verified: user.email_verified_at !== null }),
  };
}
