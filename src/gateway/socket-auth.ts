import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { Principal } from '../auth/access-tokens';
import { authenticate, type TokenChecks } from '../auth/authenticate';
import type { ProofTarget } from '../auth/dpop';
import { dpopError } from '../auth/dpop-errors';

/** How a socket checks the tokens it is renewed with: its tenant's checks, and its URL as DPoP proofs name it. */
export interface SocketAuth {
  readonly checks: TokenChecks;
  readonly target: ProofTarget;
}

/**
 * SPEC §11: the socket's URL as a DPoP proof names it, with `htm` GET: the
 * http(s) URL of the upgrade without its query, under the tenant's issuer
 * or as the request reached this server.
 */
export function socketTarget(req: IncomingMessage, path: string, rawPath: string, issuer: string): ProofTarget {
  const scheme = (req.socket as TLSSocket).encrypted ? 'https' : 'http';
  const urls = [`${issuer}${path}`, `${scheme}://${req.headers.host ?? ''}${rawPath}`];
  return { method: 'GET', urls: () => urls };
}

/**
 * An `auth` frame's token, checked as at the upgrade: a bound token needs
 * `dpop`, a proof for the socket's URL with the new token's `ath`. A socket
 * bound to a key stays bound to it: renewing it with an unbound token, or
 * one bound to another key, is refused.
 */
export async function renewalPrincipal(auth: SocketAuth, current: Principal, token: string, proof: string | undefined): Promise<Principal> {
  const principal = await authenticate(auth.checks, { token, scheme: proof === undefined ? 'Bearer' : 'DPoP', proof, target: auth.target }, 'messages:read');
  if (current.jkt !== undefined && principal.jkt !== current.jkt) {
    throw dpopError('resource', 'invalid_token', 'This socket is bound to a DPoP key: renew it with a token bound to the same key.');
  }
  return principal;
}
