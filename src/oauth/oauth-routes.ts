import type { Request, RequestHandler, Response, Router } from 'express';
import { z } from 'zod';
import type { Api } from '../http/api';
import { errorBody, errorResponses } from '../http/openapi-responses';
import type { Services } from '../services';
import { TOKEN_GRANT_TYPES } from './grant';
import { introspectionEndpoint } from './introspection';
import { revocationEndpoint } from './revocation';
import { tokenEndpoint } from './token-endpoint';

export interface OAuthLimits {
  readonly token: RequestHandler;
  readonly failedLogins: RequestHandler;
  readonly failedMfa: RequestHandler;
}

const FORM_TYPES = ['application/x-www-form-urlencoded', 'application/json'] as const;
const TAG = 'OAuth';
const clientCredentials = { client_id: z.string().optional(), client_secret: z.string().optional() };

const tokenRequest = z.object({
  grant_type: z.enum(TOKEN_GRANT_TYPES),
  username: z.string().optional().describe('password grant'),
  password: z.string().optional().describe('password grant'),
  refresh_token: z.string().optional().describe('refresh_token grant; may come from the tessera_rt cookie instead'),
  mfa_token: z.string().optional().describe('mfa grant: from the password grant\'s mfa_required answer'),
  otp: z.string().optional().describe('mfa grant: a TOTP code or a recovery code'),
  scope: z.string().optional(),
  refresh_in_cookie: z.enum(['true', 'false']).optional().describe('return the refresh token as the tessera_rt cookie; only for requests without Origin or from this site or CORS_ORIGINS (else 403)'),
  ...clientCredentials,
});
const tokenResponse = z.object({
  access_token: z.string(),
  token_type: z.enum(['Bearer', 'DPoP']).describe('DPoP when the request carried a DPoP proof: the access token is bound to its key (RFC 9449 §5)'),
  expires_in: z.number().int(),
  refresh_token: z.string().optional(),
  scope: z.string(),
});
const oauthError = errorBody.extend({
  mfa_token: z.string().optional().describe('with mfa_required: send it back with the mfa grant within 5 minutes'),
  verification_pending: z.boolean().optional().describe('with invalid_grant: the account waits for its e-mail code'),
});
const tokenOnly = z.object({ token: z.string(), token_type_hint: z.string().optional(), ...clientCredentials });

/** What the three client-authenticated OAuth endpoints share: form or JSON bodies, RFC 6749 errors, rate limits. */
const oauthEndpoint = { tag: TAG, method: 'post', clientAuth: true, dialect: 'oauth', bodyTypes: FORM_TYPES } as const;
const oauthErrors = { ...errorResponses('rateLimited'), 401: { description: 'invalid_client' } };

type Endpoint = (req: Request, res: Response) => Promise<void> | void;
const asHandler = (endpoint: Endpoint) => (_input: unknown, req: Request, res: Response) => endpoint(req, res);

/** SPEC §3: token, revocation, introspection and JWKS (the metadata is src/oidc/discovery.ts). */
export function oauthRoutes(api: Api, router: Router, services: Services, limits: OAuthLimits): void {
  api.route(
    router,
    {
      ...oauthEndpoint, path: '/token', summary: 'RFC 6749 token endpoint: password, refresh_token, client_credentials, and the mfa grant after mfa_required; with a DPoP header (RFC 9449 proof), tokens bound to its key',
      documentedBody: tokenRequest, before: [limits.token, limits.failedLogins, limits.failedMfa],
      responses: {
        200: { description: 'Tokens (Cache-Control: no-store)', schema: tokenResponse, headers: ['Set-Cookie', 'DPoP-Nonce'] },
        ...oauthErrors,
        400: {
          description: 'RFC 6749 §5.2 error; mfa_required (with mfa_token) when the account has two-factor sign-in; invalid_dpop_proof or use_dpop_nonce (RFC 9449 §5, §8)',
          schema: oauthError,
          headers: ['DPoP-Nonce'],
        },
        403: { description: 'forbidden: refresh_in_cookie=true from an Origin that is neither this site nor in CORS_ORIGINS (login CSRF, SPEC §9)', schema: oauthError },
      },
    },
    asHandler(tokenEndpoint(services)),
  );

  api.route(
    router,
    {
      ...oauthEndpoint, path: '/revoke', summary: 'RFC 7009: a refresh or access token revokes its whole session; unknown tokens still 200',
      documentedBody: tokenOnly, before: [limits.token],
      responses: { 200: { description: 'Revoked, or nothing to revoke' }, ...oauthErrors },
    },
    asHandler(revocationEndpoint(services)),
  );

  api.route(
    router,
    {
      ...oauthEndpoint, path: '/introspect', summary: 'RFC 7662 introspection, for confidential clients',
      documentedBody: tokenOnly, before: [limits.token],
      responses: { 200: { description: '{"active": false} for anything expired, revoked or unknown', schema: z.looseObject({ active: z.boolean() }) }, ...oauthErrors },
    },
    asHandler(introspectionEndpoint(services)),
  );

  api.route(
    router,
    {
      method: 'get', path: '/.well-known/jwks.json', tag: TAG, summary: 'The public signing keys: ES256 and RS256 (id tokens), never the HS256 secret',
      responses: { 200: { description: 'RFC 7517 key set', schema: z.object({ keys: z.array(z.looseObject({ kid: z.string() })) }) } },
    },
    (_input, _req, res) => {
      res.set('Cache-Control', 'public, max-age=300').json(services.keys.jwks());
    },
  );
}
