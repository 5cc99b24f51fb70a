import { z } from 'zod';
import type { ResponseSpec } from './api';

/** The SPEC §2 error body. */
export const errorBody = z.object({
  error: z.string(),
  error_description: z.string(),
  details: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
});

const ERRORS = {
  auth: {
    401: {
      description: 'No token, or a bad, expired or revoked one (RFC 6750); for DPoP, invalid_dpop_proof or use_dpop_nonce (RFC 9449 §7, §9)',
      schema: errorBody,
      headers: ['WWW-Authenticate', 'DPoP-Nonce'],
    },
    403: { description: 'The token lacks the needed scope (insufficient_scope)', schema: errorBody, headers: ['WWW-Authenticate'] },
  },
  notFound: { 404: { description: 'No such object, or not yours', schema: errorBody } },
  conflict: { 409: { description: 'Conflicts with the current state', schema: errorBody } },
  rateLimited: { 429: { description: 'Too many requests (rate_limited)', schema: errorBody, headers: ['Retry-After'] } },
  unprocessable: { 422: { description: 'Valid JSON that names things that do not exist', schema: errorBody } },
  invalidCode: { 400: { description: 'Malformed request (validation_failed), or invalid_code: the code is wrong, expired, used or was tried too often', schema: errorBody } },
} satisfies Record<string, Record<number, ResponseSpec>>;

/** The documented error responses of a route; 400 (validation) is always among them. */
export function errorResponses(...kinds: Array<keyof typeof ERRORS>): Record<number, ResponseSpec> {
  return Object.assign(
    { 400: { description: 'Malformed or invalid request (validation_failed / invalid_request)', schema: errorBody } },
    ...kinds.map((kind) => ERRORS[kind]),
  );
}
