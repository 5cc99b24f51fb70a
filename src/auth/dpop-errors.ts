import { ApiError } from '../errors';

/** The proof algorithms tessera verifies (RFC 9449 §4.3: asymmetric only; never `none` or a MAC). */
export const DPOP_ALGORITHMS = ['ES256', 'ES384', 'EdDSA', 'RS256', 'PS256'] as const;
export type DpopAlgorithm = (typeof DPOP_ALGORITHMS)[number];

const ALGS = DPOP_ALGORITHMS.join(' ');

/**
 * Where a DPoP failure is answered: at the token endpoint with a 400 and the
 * error in the body (RFC 9449 §5), at a resource with a 401 and a `DPoP`
 * challenge naming the accepted algorithms (§7.1).
 */
export type DpopEndpoint = 'token' | 'resource';
export type DpopErrorCode = 'invalid_dpop_proof' | 'use_dpop_nonce' | 'invalid_token';

const quoted = (value: string) => value.replace(/["\\]/g, '');

/** The error of a refused DPoP request; `nonce` is sent as `DPoP-Nonce` (RFC 9449 §8, §9). */
export function dpopError(endpoint: DpopEndpoint, code: DpopErrorCode, description: string, nonce?: string): ApiError {
  const headers: Record<string, string> = nonce === undefined ? {} : { 'DPoP-Nonce': nonce };
  if (endpoint === 'token') return new ApiError(400, code, description, { headers });
  headers['WWW-Authenticate'] = `DPoP error="${code}", error_description="${quoted(description)}", algs="${ALGS}"`;
  return new ApiError(401, code, description, { headers });
}
