import type { Request } from 'express';
import type { ProofTarget } from '../auth/dpop';

const pathOf = (url: string) => url.slice(0, url.search(/[?#]|$/));

/**
 * What a DPoP proof of this request must name (RFC 9449 §4.3): its method,
 * and its URL either under the tenant's issuer (the public URL tessera is
 * configured with) or as the request reached this server (scheme and host
 * as Express reads them, under TRUST_PROXY from X-Forwarded-*).
 */
export function requestTarget(req: Request, issuer: string): ProofTarget {
  return {
    method: req.method,
    urls: () => [`${issuer}${req.path}`, `${req.protocol}://${req.host}${pathOf(req.originalUrl)}`],
  };
}
