import { z } from 'zod';
import { ACCOUNT_SCOPE, ALL_SCOPES, formatScope, OIDC_SCOPES, parseScope, USER_SCOPES } from '../auth/scopes';
import type { ClientChanges, ClientRow } from '../db/queries/clients';
import { conflict, notFound, validationFailed } from '../errors';
import { BUILT_IN_CLIENT_ID, GRANT_TYPES, ID_TOKEN_ALGS, TOKEN_ENDPOINT_AUTH_METHODS, type Clients, type GrantType, type NewClient } from './clients';
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

/**
 * What an app that signs users in through the authorization endpoint may ask for unless told
 * otherwise: the resources and OpenID Connect, not managing the account itself (SPEC §9 `account`).
 */
export const SIGN_IN_SCOPES: readonly string[] = [...USER_SCOPES.filter((scope) => scope !== ACCOUNT_SCOPE), ...OIDC_SCOPES];

/**
 * The scope a client gets when it is registered without one: SIGN_IN_SCOPES for a client of the
 * authorization endpoint; nothing for the others (password or client_credentials clients), as before.
 */
export const defaultClientScope = (grantTypes: readonly GrantType[]): string =>
  grantTypes.includes('authorization_code') ? formatScope(SIGN_IN_SCOPES) : '';

/** What may be true of a client only together (SPEC §10), as one entry per broken rule. */
interface ClientShape {
  readonly confidential: boolean;
  readonly token_endpoint_auth_method: string | null;
  readonly grant_types: readonly string[];
  readonly redirect_uris: readonly string[];
}
export function clientShapeIssues(c: ClientShape): Array<{ path: string; message: string }> {
  const issues = [];
  if (c.confidential !== (c.token_endpoint_auth_method !== 'none')) {
    issues.push({ path: 'token_endpoint_auth_method', message: 'a confidential client authenticates with client_secret_basic or client_secret_post, a public one with none' });
  }
  if (!c.confidential && c.grant_types.includes('client_credentials')) issues.push({ path: 'grant_types', message: 'client_credentials needs a confidential client' });
  if (c.redirect_uris.length === 0 && c.grant_types.includes('authorization_code')) issues.push({ path: 'redirect_uris', message: 'authorization_code needs at least one redirect URI' });
  return issues;
}

// The metadata an admin sets, at registration and later (each optional here; defaults apply at registration).
const metadataFields = {
  name: z.string().min(1).max(200),
  scope: scopeString,
  grant_types: z.array(z.enum(GRANT_TYPES)).min(1).max(GRANT_TYPES.length),
  token_endpoint_auth_method: z.enum(TOKEN_ENDPOINT_AUTH_METHODS),
  redirect_uris: z.array(redirectUriSchema).max(MAX_URIS),
  post_logout_redirect_uris: z.array(redirectUriSchema).max(MAX_URIS),
  first_party: z.boolean(),
  id_token_signed_response_alg: z.enum(ID_TOKEN_ALGS),
  dpop_bound_access_tokens: z.boolean().describe('RFC 9449 §5.2: every token request of the client needs a DPoP proof'),
};

/** A client registration, shared by the admin API and `tessera client add` (SPEC §10). */
export const newClientBody = z
  .strictObject({
    ...metadataFields,
    scope: metadataFields.scope.optional(),
    grant_types: metadataFields.grant_types.optional(),
    confidential: z.boolean().optional(),
    token_endpoint_auth_method: metadataFields.token_endpoint_auth_method.optional(),
    redirect_uris: metadataFields.redirect_uris.default([]),
    post_logout_redirect_uris: metadataFields.post_logout_redirect_uris.default([]),
    first_party: metadataFields.first_party.default(false),
    id_token_signed_response_alg: metadataFields.id_token_signed_response_alg.default('RS256'),
    dpop_bound_access_tokens: metadataFields.dpop_bound_access_tokens.default(false),
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
      // A confidential client that names no method may use either (null), as clients always could (SPEC §3.1).
      token_endpoint_auth_method: body.token_endpoint_auth_method ?? (confidential ? null : 'none'),
      scope: formatScope(parseScope(body.scope ?? defaultClientScope(grantTypes))),
    };
  })
  .superRefine((client, ctx) => {
    for (const { path, message } of clientShapeIssues(client)) ctx.addIssue({ code: 'custom', path: [path], message });
  });

/**
 * A change to a client (`PATCH /admin/clients/:id`, `tessera client update`): any of the metadata;
 * `client_uri` and `logo_uri` null to remove them. Whether it stays confidential does not change.
 */
export const clientPatchBody = z
  .strictObject(metadataFields)
  .partial()
  .extend({ client_uri: webUriSchema.nullable().optional(), logo_uri: webUriSchema.nullable().optional() })
  .refine((body) => Object.values(body).some((value) => value !== undefined), 'Give at least one field to change.');

export type ClientPatch = z.output<typeof clientPatchBody>;

/**
 * Changes a client as `patch` says: 404 for an unknown one, 409 for the built-in one (tessera keeps
 * it), 400 `validation_failed` when the client would break a rule. Issued tokens keep what they hold.
 */
export async function updateClient(clients: Clients, tenantId: string, id: string, patch: ClientPatch): Promise<ClientRow> {
  if (id === BUILT_IN_CLIENT_ID) throw conflict('The built-in client is kept by tessera itself.');
  const row = await clients.queries.find(tenantId, id);
  if (!row) throw notFound('client');
  const changes = Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined)) as ClientChanges;
  if (changes.scope !== undefined) changes.scope = formatScope(parseScope(changes.scope));
  const issues = clientShapeIssues({ ...row, ...changes });
  if (issues.length > 0) throw validationFailed('The client would not be valid.', issues.map(({ path, message }) => ({ field: path, message })));
  await clients.queries.update(tenantId, id, changes);
  return { ...row, ...changes };
}

export type NewClientBody = z.output<typeof newClientBody>;

/** The client a validated registration describes, for `Clients.create`. */
export const newClientOf = (tenantId: string, body: NewClientBody): NewClient => ({
  tenantId,
  name: body.name,
  scope: body.scope,
  grantTypes: body.grant_types,
  confidential: body.confidential,
  ...(body.token_endpoint_auth_method !== null && { tokenEndpointAuthMethod: body.token_endpoint_auth_method }),
  redirectUris: body.redirect_uris,
  postLogoutRedirectUris: body.post_logout_redirect_uris,
  firstParty: body.first_party,
  idTokenSignedResponseAlg: body.id_token_signed_response_alg,
  clientUri: body.client_uri,
  logoUri: body.logo_uri,
  dpopBoundAccessTokens: body.dpop_bound_access_tokens,
});
