import type { RequestHandler, Router } from 'express';
import { z } from 'zod';
import { authenticate, bearerToken } from '../auth/authenticate';
import { ADMIN_SCOPE, OIDC_SCOPES, parseScope, USER_SCOPES } from '../auth/scopes';
import type { ClientRow } from '../db/queries/clients';
import { forbidden } from '../errors';
import type { Api } from '../http/api';
import { errorBody, errorResponses } from '../http/openapi-responses';
import { defaultClientScope, redirectUriSchema, webUriSchema } from '../oauth/client-metadata';
import { ID_TOKEN_ALGS, TOKEN_ENDPOINT_AUTH_METHODS } from '../oauth/clients';
import { noStore } from '../oauth/token-endpoint';
import type { Services } from '../services';

const MAX_URIS = 20;
// A registered client is a third-party app: it signs users in with their consent, for what a user has.
const REGISTRABLE_SCOPES = new Set<string>([...USER_SCOPES, ...OIDC_SCOPES]);
const REGISTRABLE_GRANTS = ['authorization_code', 'refresh_token'] as const;

/** RFC 7591 §2 client metadata; metadata tessera does not know is ignored, as §2 says. */
const registrationBody = z
  .looseObject({
    redirect_uris: z.array(redirectUriSchema).min(1, 'at least one redirect URI is required').max(MAX_URIS),
    post_logout_redirect_uris: z.array(redirectUriSchema).max(MAX_URIS).default([]),
    token_endpoint_auth_method: z.enum(TOKEN_ENDPOINT_AUTH_METHODS).default('client_secret_basic'),
    grant_types: z
      .array(z.enum(REGISTRABLE_GRANTS, { message: 'a registered client may use authorization_code and refresh_token only (no password or client_credentials grant)' }))
      .min(1)
      .default(['authorization_code']),
    response_types: z.array(z.literal('code', { message: 'only the code response type is supported' })).min(1).default(['code']),
    client_name: z.string().trim().min(1).max(200).optional(),
    client_uri: webUriSchema.optional(),
    logo_uri: webUriSchema.optional(),
    scope: z
      .string()
      .max(1000)
      .refine((scope) => parseScope(scope).every((s) => REGISTRABLE_SCOPES.has(s)), `may hold only ${[...REGISTRABLE_SCOPES].join(' ')}`)
      .optional(),
    id_token_signed_response_alg: z.enum(ID_TOKEN_ALGS).default('RS256'),
  })
  .refine((body) => body.grant_types.includes('authorization_code'), { message: 'must include authorization_code', path: ['grant_types'] });

const registrationResponse = z.object({
  client_id: z.string(),
  client_secret: z.string().optional().describe('confidential clients only; shown this once'),
  client_secret_expires_at: z.literal(0).optional().describe('0: the secret does not expire'),
  client_id_issued_at: z.number().int(),
  client_name: z.string(),
  redirect_uris: z.array(z.string()),
  post_logout_redirect_uris: z.array(z.string()),
  grant_types: z.array(z.string()),
  response_types: z.array(z.string()),
  token_endpoint_auth_method: z.enum(TOKEN_ENDPOINT_AUTH_METHODS),
  scope: z.string(),
  id_token_signed_response_alg: z.enum(ID_TOKEN_ALGS),
  client_uri: z.string().optional(),
  logo_uri: z.string().optional(),
});

// A client that names itself nothing is shown by where it sends users back.
const nameFrom = (redirectUri: string) => {
  const url = new URL(redirectUri);
  return url.host || url.protocol.slice(0, -1);
};

/** RFC 7591 §3.2.1: the client's id, its secret this once, and the metadata as registered. */
const registeredClient = (client: ClientRow, secret: string | undefined) => ({
  client_id: client.id,
  ...(secret !== undefined && { client_secret: secret, client_secret_expires_at: 0 as const }),
  client_id_issued_at: Math.floor(client.created_at / 1000),
  client_name: client.name,
  redirect_uris: client.redirect_uris,
  post_logout_redirect_uris: client.post_logout_redirect_uris,
  grant_types: client.grant_types,
  response_types: ['code'],
  token_endpoint_auth_method: client.token_endpoint_auth_method,
  scope: client.scope,
  id_token_signed_response_alg: client.id_token_signed_response_alg,
  ...(client.client_uri !== null && { client_uri: client.client_uri }),
  ...(client.logo_uri !== null && { logo_uri: client.logo_uri }),
});

/**
 * RFC 7591 dynamic client registration at `/register` (SPEC §10): CLIENT_REGISTRATION=open lets
 * anyone register, `token` wants a bearer token with `admin`, `closed` refuses. Registered clients
 * are third-party (consent every time) and cannot use the password grant.
 */
export function registrationRoutes(api: Api, router: Router, services: Services, limit: RequestHandler): void {
  const { config, tenantId, clients, accessTokens } = services;
  const gate: RequestHandler = async (req, _res, next) => {
    if (config.clientRegistration === 'closed') throw forbidden('Client registration is closed on this server.');
    if (config.clientRegistration === 'token') await authenticate(accessTokens, bearerToken(req.get('authorization')), ADMIN_SCOPE);
    next();
  };

  api.route(
    router,
    {
      method: 'post', path: '/register', tag: 'OpenID Connect', dialect: 'registration', before: [limit, gate], body: registrationBody,
      summary: 'RFC 7591 client registration (CLIENT_REGISTRATION=open, or token with an admin bearer token); the 201 carries client_secret this once only',
      responses: {
        201: { description: 'Registered (Cache-Control: no-store)', schema: registrationResponse },
        ...errorResponses('auth', 'rateLimited'),
        400: { description: 'invalid_redirect_uri or invalid_client_metadata (RFC 7591 §3.2.2), with details', schema: errorBody },
      },
    },
    async ({ body }, _req, res) => {
      const grantTypes = [...new Set(body.grant_types)];
      const { client, secret } = await clients.create({
        tenantId,
        name: body.client_name ?? nameFrom(body.redirect_uris[0]!),
        scope: parseScope(body.scope ?? defaultClientScope(grantTypes)).join(' '),
        grantTypes,
        confidential: body.token_endpoint_auth_method !== 'none',
        tokenEndpointAuthMethod: body.token_endpoint_auth_method,
        redirectUris: body.redirect_uris,
        postLogoutRedirectUris: body.post_logout_redirect_uris,
        firstParty: false,
        idTokenSignedResponseAlg: body.id_token_signed_response_alg,
        clientUri: body.client_uri,
        logoUri: body.logo_uri,
      });
      noStore(res);
      res.status(201).json(registeredClient(client, secret));
    },
  );
}
