import { insufficientScope, missingToken } from '../errors';
import type { AccessTokens, Principal } from './access-tokens';

/** The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1), or undefined. */
export function bearerToken(authorization: string | undefined): string | undefined {
  if (!authorization) return undefined;
  const match = /^Bearer[ ]+([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(authorization);
  return match?.[1];
}

/**
 * The one auth check of tessera, used by REST and the WebSocket gateway:
 * a token (or none) and the scope needed → the principal, or an error
 * (401 `unauthorized` / `invalid_token`, 403 `insufficient_scope`).
 */
export async function authenticate(accessTokens: AccessTokens, token: string | undefined, scope?: string): Promise<Principal> {
  if (token === undefined) throw missingToken();
  const principal = await accessTokens.verify(token);
  if (scope !== undefined) requireScope(principal, scope);
  return principal;
}

/** 403 `insufficient_scope` unless the principal holds the scope. */
export function requireScope(principal: Principal, scope: string): void {
  if (!principal.scopes.has(scope)) throw insufficientScope(scope);
}
