import { ApiError, insufficientScope, missingToken } from '../errors';
import type { AccessTokens, Principal } from './access-tokens';
import type { DpopProofs, ProofTarget } from './dpop';
import { dpopError } from './dpop-errors';

/** How an access token was sent: `Authorization: Bearer` (RFC 6750, and the socket's `?token=`) or `Authorization: DPoP` (RFC 9449 §7.1). */
export type TokenScheme = 'Bearer' | 'DPoP';

/** The token of an `Authorization` header and its scheme, or undefined for any other header. */
export function authorizationToken(authorization: string | undefined): { scheme: TokenScheme; token: string } | undefined {
  if (!authorization) return undefined;
  const match = /^(Bearer|DPoP)[ ]+([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(authorization);
  if (!match) return undefined;
  return { scheme: match[1]!.toLowerCase() === 'dpop' ? 'DPoP' : 'Bearer', token: match[2]! };
}

/** The token of an `Authorization: Bearer <token>` header (RFC 6750 §2.1), or undefined. */
export function bearerToken(authorization: string | undefined): string | undefined {
  const presented = authorizationToken(authorization);
  return presented?.scheme === 'Bearer' ? presented.token : undefined;
}

/** What a request presents: a token (or none), how, and the `DPoP` proof with what it must be for. */
export interface PresentedToken {
  readonly token: string | undefined;
  readonly scheme: TokenScheme;
  /** The `DPoP` header, when sent. */
  readonly proof: string | undefined;
  readonly target: ProofTarget;
}

/** The checks of one tenant's tokens: signature and claims, and proofs of possession. */
export interface TokenChecks {
  readonly accessTokens: AccessTokens;
  readonly dpop: DpopProofs;
}

const asDpopChallenge = (error: unknown) =>
  error instanceof ApiError && error.code === 'invalid_token' ? dpopError('resource', 'invalid_token', error.description) : error;

/**
 * RFC 9449 §7: a bound token needs the DPoP scheme and a proof by its key
 * for this request and this token; a token sent with the DPoP scheme must
 * be bound. A bound token sent as Bearer is refused (no downgrade, §7.2).
 */
async function confirmPossession(dpop: DpopProofs, principal: Principal, presented: PresentedToken, token: string): Promise<void> {
  if (principal.jkt === undefined) throw dpopError('resource', 'invalid_token', 'This access token is not DPoP-bound: send it with the Bearer scheme.');
  if (presented.scheme !== 'DPoP') {
    throw dpopError('resource', 'invalid_token', 'This access token is bound to a DPoP key: send it with the DPoP scheme and a proof.');
  }
  const jkt = await dpop.verify(presented.proof, presented.target, 'resource', token);
  if (jkt !== principal.jkt) throw dpopError('resource', 'invalid_dpop_proof', 'The DPoP proof is signed by another key than the one the access token is bound to.');
}

/**
 * The one auth check of tessera, used by REST and the WebSocket gateway:
 * a presented token and the scope needed → the principal, or an error
 * (401 `unauthorized` / `invalid_token` / `invalid_dpop_proof`, 403
 * `insufficient_scope`). The token check is cached; the proof is checked
 * on every request.
 */
export async function authenticate(checks: TokenChecks, presented: PresentedToken, scope?: string): Promise<Principal> {
  const { token } = presented;
  if (token === undefined) throw missingToken();
  const principal = await checks.accessTokens.verify(token).catch((error: unknown) => {
    throw presented.scheme === 'DPoP' ? asDpopChallenge(error) : error;
  });
  if (principal.jkt !== undefined || presented.scheme === 'DPoP') await confirmPossession(checks.dpop, principal, presented, token);
  if (scope !== undefined) requireScope(principal, scope);
  return principal;
}

/** 403 `insufficient_scope` unless the principal holds the scope. */
export function requireScope(principal: Principal, scope: string): void {
  if (!principal.scopes.has(scope)) throw insufficientScope(scope);
}
