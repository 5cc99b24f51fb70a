import { z } from 'zod';
import { ALL_SCOPES, formatScope, OIDC_SCOPES, parseScope, USER_SCOPES } from '../auth/scopes';
import { GRANT_TYPES, ID_TOKEN_ALGS, TOKEN_ENDPOINT_AUTH_METHODS, type GrantType, type NewClient } from './clients';
import { redirectUriProblem } from './redirect-uris';

const MAX_URIS = 20;

/** A redirect or post-logout redirect URI a client may register (RFC 8252 §7, RFC 6749 §3.1.2). */
export const redirectUriSchema = z
  .string()
  .max(2000)
  .superRefine((uri, ctx) => {
    const problem = redirectUriProblem(uri);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** A web page of the client (its home page, its logo): absolute http or https. */
export const webUriSchema = z.url({ protocol: /^https?$/, message: 'must be an absolute http or https URL' }).max(2000);

export const scopeString = z
  .string()
  .max(1000)
  .refine((scope) => parseScope(scope).every((s) => (ALL_SCOPES as readonly string[]).includes(s)), 'has an unknown scope');

const USER_GRANTS: readonly GrantType[] = ['password', 'authorization_code'];

/**
 * The scope a client gets when it is registered without one: a client that signs users in may ask
 * for what a user has and for OpenID Connect; a client of its own (client_credentials) for nothing.
 */
export const defaultClientScope = (grantTypes: readonly GrantType[]): string =>
  grantTypes.some((grant) => USER_GRANTS.includes(grant)) ? formatScope([...USER_SCOPES, ...OIDC_SCOPES]) : '';

/** A client registration, shared by the admin API and `tessera client add` (SPEC §10). */
export const newClientBody = z
  .strictObject({
    name: z.string().min(1).max(200),
    scope: scopeString.optional(),
    grant_types: z.array(z.enum(GRANT_TYPES)).min(1).max(GRANT_TYPES.length).optional(),
    confidential: z.boolean().optional(),
    token_endpoint_auth_method: z.enum(TOKEN_ENDPOINT_AUTH_METHODS).optional(),
    redirect_uris: z.array(redirectUriSchema).max(MAX_URIS).default([]),
    post_logout_redirect_uris: z.array(redirectUriSchema).max(MAX_URIS).default([]),
    first_party: z.boolean().default(false),
    id_token_signed_response_alg: z.enum(ID_TOKEN_ALGS).default('RS256'),
    client_uri: webUriSchema.optional(),
    logo_uri: webUriSchema.optional(),
  })
  .transform((body) => {
    const confidential = body.confidential ?? body.token_endpoint_auth_method !== 'none';
    // A client with redirect URIs signs users in (RFC 7591 §2's default grant); one without acts for itself.
    const grantTypes = body.grant_types ?? (body.redirect_uris.length > 0 ? ['authorization_code', 'refresh_token'] : ['client_credentials']);
    return {
      ...body,
      confidential,
      grant_types: grantTypes,
      token_endpoint_auth_method: body.token_endpoint_auth_method ?? (confidential ? 'client_secret_basic' : 'none'),
      scope: formatScope(parseScope(body.scope ?? defaultClientScope(grantTypes))),
    };
  })
  .refine((c) => c.confidential === (c.token_endpoint_auth_method !== 'none'), {
    message: 'a confidential client authenticates with client_secret_basic or client_secret_post, a public one with none',
    path: ['token_endpoint_auth_method'],
  })
  .refine((c) => c.confidential || !c.grant_types.includes('client_credentials'), {
    message: 'client_credentials needs a confidential client',
    path: ['grant_types'],
  })
  .refine((c) => c.redirect_uris.length > 0 || !c.grant_types.includes('authorization_code'), {
    message: 'authorization_code needs at least one redirect URI',
    path: ['redirect_uris'],
  });

export type NewClientBody = z.output<typeof newClientBody>;

/** The client a validated registration describes, for `Clients.create`. */
export const newClientOf = (tenantId: string, body: NewClientBody): NewClient => ({
  tenantId,
  name: body.name,
  scope: body.scope,
  grantTypes: body.grant_types,
  confidential: body.confidential,
  tokenEndpointAuthMethod: body.token_endpoint_auth_method,
  redirectUris: body.redirect_uris,
  postLogoutRedirectUris: body.post_logout_redirect_uris,
  firstParty: body.first_party,
  idTokenSignedResponseAlg: body.id_token_signed_response_alg,
  clientUri: body.client_uri,
  logoUri: body.logo_uri,
});
