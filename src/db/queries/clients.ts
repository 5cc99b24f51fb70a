import type { Knex } from 'knex';
import { knexReads, type Reads } from '../reads';

/** RFC 7591 §2: how a client authenticates at the token endpoint. */
export type TokenEndpointAuthMethod = 'client_secret_basic' | 'client_secret_post' | 'none';
/** The algorithms an id token may be signed with (SPEC §10). */
export type IdTokenAlg = 'RS256' | 'ES256';

export interface ClientRow {
  tenant_id: string;
  id: string;
  name: string;
  secret_hash: string | null;
  confidential: boolean;
  grant_types: string[];
  scope: string;
  redirect_uris: string[];
  post_logout_redirect_uris: string[];
  /** null: a confidential client that registered no method, which may use Basic or the body (SPEC §3.1). */
  token_endpoint_auth_method: TokenEndpointAuthMethod | null;
  /** First-party clients skip the consent page (SPEC §10). */
  first_party: boolean;
  id_token_signed_response_alg: IdTokenAlg;
  client_uri: string | null;
  logo_uri: string | null;
  created_at: number;
  /** RFC 9449 §5.2: every token request of this client needs a DPoP proof. */
  dpop_bound_access_tokens: boolean;
}

type StoredClient = Omit<ClientRow, 'grant_types' | 'confidential' | 'first_party' | 'redirect_uris' | 'post_logout_redirect_uris' | 'dpop_bound_access_tokens'> & {
  grant_types: string;
  confidential: boolean | number;
  first_party: boolean | number;
  redirect_uris: string;
  post_logout_redirect_uris: string;
  dpop_bound_access_tokens: boolean | number;
};

const toClient = (row: StoredClient): ClientRow => ({
  ...row,
  confidential: Boolean(row.confidential),
  first_party: Boolean(row.first_party),
  dpop_bound_access_tokens: Boolean(row.dpop_bound_access_tokens),
  grant_types: row.grant_types.split(' ').filter(Boolean),
  redirect_uris: JSON.parse(row.redirect_uris) as string[],
  post_logout_redirect_uris: JSON.parse(row.post_logout_redirect_uris) as string[],
});

function toStored(client: Partial<ClientRow>): Partial<StoredClient> {
  const { grant_types, redirect_uris, post_logout_redirect_uris, ...rest } = client;
  return {
    ...rest,
    ...(grant_types && { grant_types: grant_types.join(' ') }),
    ...(redirect_uris && { redirect_uris: JSON.stringify(redirect_uris) }),
    ...(post_logout_redirect_uris && { post_logout_redirect_uris: JSON.stringify(post_logout_redirect_uris) }),
  };
}

const CLIENT_BY_ID =
  'SELECT tenant_id, id, name, secret_hash, confidential, grant_types, scope, redirect_uris, post_logout_redirect_uris, ' +
  'token_endpoint_auth_method, first_party, id_token_signed_response_alg, client_uri, logo_uri, created_at, dpop_bound_access_tokens ' +
  'FROM clients WHERE tenant_id = ? AND id = ?';

/** What an update may change: everything but the keys and the creation time. */
export type ClientChanges = Partial<Omit<ClientRow, 'tenant_id' | 'id' | 'created_at'>>;

export function createClientQueries(db: Knex, reads: Reads = knexReads(db)) {
  const clients = () => db<StoredClient>('clients');
  return {
    async insert(client: ClientRow): Promise<void> {
      await clients().insert(toStored(client) as StoredClient);
    },
    async find(tenantId: string, id: string): Promise<ClientRow | undefined> {
      const row = await reads.row<StoredClient>(CLIENT_BY_ID, [tenantId, id]);
      return row && toClient(row);
    },
    async list(tenantId: string): Promise<ClientRow[]> {
      const rows = await clients().where({ tenant_id: tenantId }).orderBy('created_at', 'asc').orderBy('id', 'asc');
      return rows.map(toClient);
    },
    async update(tenantId: string, id: string, changes: ClientChanges): Promise<boolean> {
      return (await clients().where({ tenant_id: tenantId, id }).update(toStored(changes))) > 0;
    },
    async remove(tenantId: string, id: string): Promise<boolean> {
      return (await clients().where({ tenant_id: tenantId, id }).delete()) > 0;
    },
  };
}
