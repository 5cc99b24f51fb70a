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
}

type StoredClient = Omit<ClientRow, 'grant_types' | 'confidential'> & { grant_types: string; confidential: boolean | number };

const toClient = (row: StoredClient): ClientRow => ({
  ...row,
  confidential: Boolean(row.confidential),
  grant_types: row.grant_types.split(' ').filter(Boolean),
});

const CLIENT_BY_ID = 'SELECT tenant_id, id, name, secret_hash, confidential, grant_types, scope, created_at FROM clients WHERE tenant_id = ? AND id = ?';

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
