import type { Request, Response } from 'express';
import { ALL_SCOPES } from '../auth/scopes';
import { DPOP_ALGORITHMS } from '../auth/dpop-errors';
import type { Config } from '../config';
import { TOKEN_GRANT_TYPES } from './grant';

/** RFC 8414 authorization server metadata. */
export function metadata(config: Config): (req: Request, res: Response) => void {
  const { issuer } = config;
  const document = {
    issuer,
    token_endpoint: `${issuer}/token`,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    revocation_endpoint: `${issuer}/revoke`,
    introspection_endpoint: `${issuer}/introspect`,
    grant_types_supported: TOKEN_GRANT_TYPES,
    response_types_supported: [],
    scopes_supported: ALL_SCOPES,
    token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
    introspection_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
    service_documentation: `${issuer}/openapi.json`,
    dpop_signing_alg_values_supported: DPOP_ALGORITHMS, // RFC 9449 §5.1
  };
  return (_req, res) => {
    res.set('Cache-Control', 'public, max-age=300').json(document);
  };
}
