import type { Knex } from 'knex';
import { knexReads, type Reads } from '../reads';

export interface ClientRow {
  tenant_id: string;
  id: string;
  name: string;
  secret_hash: string | null;
  confidential: boolean;
  grant_types: string[];
  scope: string;
  created_at: number;
  /** RFC 9449 §5.2: every token request of this client needs a DPoP proof. */
  dpop_bound_access_tokens: boolean;
}

type StoredClient = Omit<ClientRow, 'grant_types' | 'confidential' | 'dpop_bound_access_tokens'> & {
  grant_types: string;
  confidential: boolean | number;
  dpop_bound_access_tokens: boolean | number;
};

const toClient = (row: StoredClient): ClientRow => ({
  ...row,
  confidential: Boolean(row.confidential),
  dpop_bound_access_tokens: Boolean(row.dpop_bound_access_tokens),
  grant_types: row.grant_types.split(' ').filter(Boolean),
});

const CLIENT_BY_ID = 'SELECT tenant_id, id, name, secret_hash, confidential, grant_types, scope, created_at, dpop_bound_access_tokens FROM clients WHERE tenant_id = ? AND id = ?';

export function createClientQueries(db: Knex, reads: Reads = knexReads(db)) {
  const clients = () => db<StoredClient>('clients');
  return {
    async insert(client: ClientRow): Promise<void> {
      await clients().insert({ ...client, grant_types: client.grant_types.join(' ') });
    },
    async find(tenantId: string, id: string): Promise<ClientRow | undefined> {
      const row = await reads.row<StoredClient>(CLIENT_BY_ID, [tenantId, id]);
      return row && toClient(row);
    },
    async list(tenantId: string): Promise<ClientRow[]> {
      const rows = await clients().where({ tenant_id: tenantId }).orderBy('created_at', 'asc').orderBy('id', 'asc');
      return rows.map(toClient);
    },
    async remove(tenantId: string, id: string): Promise<boolean> {
      return (await clients().where({ tenant_id: tenantId, id }).delete()) > 0;
    },
  };
}
