import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Knex } from 'knex';
import type { Sessions } from '../accounts/sessions';
import { ADMIN_SCOPE, formatScope, OIDC_SCOPES, USER_SCOPES } from '../auth/scopes';
import { createClientQueries, type ClientRow, type IdTokenAlg, type TokenEndpointAuthMethod } from '../db/queries/clients';
import type { Reads } from '../db/reads';
import { conflict, notFound } from '../errors';

export const BUILT_IN_CLIENT_ID = 'tessera';
export const GRANT_TYPES = ['password', 'refresh_token', 'client_credentials', 'authorization_code'] as const;
export type GrantType = (typeof GRANT_TYPES)[number];
export const TOKEN_ENDPOINT_AUTH_METHODS = ['client_secret_basic', 'client_secret_post', 'none'] as const satisfies readonly TokenEndpointAuthMethod[];
export const ID_TOKEN_ALGS = ['RS256', 'ES256'] as const satisfies readonly IdTokenAlg[];

export interface NewClient {
  readonly tenantId: string;
  readonly name: string;
  readonly scope: string;
  readonly grantTypes: readonly GrantType[];
  /** Confidential clients get a secret; public ones have none. */
  readonly confidential: boolean;
  /**
   * Must agree with `confidential`. When absent, a public client gets `none` and a confidential one
   * none at all (null): it may send its secret over Basic or in the body, as before (SPEC §3.1).
   */
  readonly tokenEndpointAuthMethod?: TokenEndpointAuthMethod;
  readonly redirectUris?: readonly string[];
  readonly postLogoutRedirectUris?: readonly string[];
  readonly firstParty?: boolean;
  readonly idTokenSignedResponseAlg?: IdTokenAlg;
  readonly clientUri?: string | undefined;
  readonly logoUri?: string | undefined;
  /** RFC 9449 §5.2: the client must send a DPoP proof with every token request. */
  readonly dpopBoundAccessTokens?: boolean;
}

// Client secrets are 256 random bits: a fast hash is enough, unlike passwords.
const hashSecret = (secret: string) => hash('sha256', secret, 'hex');

/** Public view of a client, as the admin API and CLI show it. */
export const publicClient = (client: ClientRow) => ({
  client_id: client.id,
  name: client.name,
  scope: client.scope,
  grant_types: client.grant_types,
  confidential: client.confidential,
  redirect_uris: client.redirect_uris,
  post_logout_redirect_uris: client.post_logout_redirect_uris,
  token_endpoint_auth_method: client.token_endpoint_auth_method,
  first_party: client.first_party,
  id_token_signed_response_alg: client.id_token_signed_response_alg,
  ...(client.client_uri === null ? {} : { client_uri: client.client_uri }),
  ...(client.logo_uri === null ? {} : { logo_uri: client.logo_uri }),
  dpop_bound_access_tokens: client.dpop_bound_access_tokens,
  created_at: new Date(client.created_at).toISOString(),
});

/**
 * The public client every tenant has, used when a request names no client (SPEC §3.1): the web
 * client served at the tenant's issuer, first-party, which signs in with the code flow (SPEC §10).
 */
export const builtInClient = (tenantId: string, issuer: string, now: number): ClientRow => ({
  tenant_id: tenantId,
  id: BUILT_IN_CLIENT_ID,
  name: 'tessera built-in public client',
  secret_hash: null,
  confidential: false,
  grant_types: ['password', 'refresh_token', 'authorization_code'],
  scope: formatScope([...USER_SCOPES, ADMIN_SCOPE, ...OIDC_SCOPES]),
  redirect_uris: [`${issuer}/`],
  post_logout_redirect_uris: [`${issuer}/`],
  token_endpoint_auth_method: 'none',
  first_party: true,
  id_token_signed_response_alg: 'RS256',
  client_uri: null,
  logo_uri: null,
  created_at: now,
  dpop_bound_access_tokens: false,
});

// What of the built-in client follows the code and ISSUER rather than an admin.
const BUILT_IN_FIELDS = ['grant_types', 'scope', 'redirect_uris', 'post_logout_redirect_uris', 'token_endpoint_auth_method', 'first_party'] as const;

/** OAuth clients: registration, secret checks, removal. */
export class Clients {
  readonly queries: ReturnType<typeof createClientQueries>;

  constructor(
    db: Knex,
    private readonly sessions: Sessions,
    reads?: Reads,
  ) {
    this.queries = createClientQueries(db, reads);
  }

  /** Registers a client; the secret (confidential clients only) is returned this once and stored hashed. */
  async create(client: NewClient, now = Date.now()): Promise<{ client: ClientRow; secret: string | undefined }> {
    const { confidential } = client;
    const authMethod = client.tokenEndpointAuthMethod ?? (confidential ? null : 'none');
    if (confidential === (authMethod === 'none')) throw conflict(`A ${confidential ? 'confidential' : 'public'} client cannot use ${authMethod ?? 'a secret'}.`);
    const secret = confidential ? randomBytes(32).toString('base64url') : undefined;
    const row: ClientRow = {
      tenant_id: client.tenantId,
      id: `c_${randomBytes(12).toString('base64url')}`,
      name: client.name,
      secret_hash: secret === undefined ? null : hashSecret(secret),
      confidential,
      grant_types: [...client.grantTypes],
      scope: client.scope,
      redirect_uris: [...(client.redirectUris ?? [])],
      post_logout_redirect_uris: [...(client.postLogoutRedirectUris ?? [])],
      token_endpoint_auth_method: authMethod,
      first_party: client.firstParty ?? false,
      id_token_signed_response_alg: client.idTokenSignedResponseAlg ?? 'RS256',
      client_uri: client.clientUri ?? null,
      logo_uri: client.logoUri ?? null,
      created_at: now,
      dpop_bound_access_tokens: client.dpopBoundAccessTokens ?? false,
    };
    await this.queries.insert(row);
    return { client: row, secret };
  }

  /**
   * Brings the tenant's built-in client up to what `builtInClient` says for this issuer: a changed
   * ISSUER moves the web client's redirect URIs, and an upgrade its grant types and scopes.
   */
  async syncBuiltIn(tenantId: string, issuer: string, now = Date.now()): Promise<void> {
    const wanted = builtInClient(tenantId, issuer, now);
    const stored = await this.queries.find(tenantId, BUILT_IN_CLIENT_ID);
    if (!stored) return;
    const changed = BUILT_IN_FIELDS.filter((field) => JSON.stringify(stored[field]) !== JSON.stringify(wanted[field]));
    if (changed.length === 0) return;
    await this.queries.update(tenantId, BUILT_IN_CLIENT_ID, Object.fromEntries(changed.map((field) => [field, wanted[field]])));
  }

  /** True when `secret` is the client's secret (constant time). */
  secretMatches(client: ClientRow, secret: string): boolean {
    if (client.secret_hash === null) return false;
    const expected = Buffer.from(client.secret_hash, 'hex');
    const actual = Buffer.from(hashSecret(secret), 'hex');
    return timingSafeEqual(actual, expected);
  }

  /** Removes a client and ends every session it holds. */
  async remove(tenantId: string, id: string): Promise<void> {
    if (id === BUILT_IN_CLIENT_ID) throw conflict('The built-in client cannot be removed.');
    if (!(await this.queries.remove(tenantId, id))) throw notFound('client');
    await this.sessions.revoke({ tenantId, clientId: id }, 'client_removed');
  }
}
