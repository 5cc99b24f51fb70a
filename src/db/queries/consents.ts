import type { Knex } from 'knex';

export interface ConsentRow {
  tenant_id: string;
  user_id: string;
  client_id: string;
  /** Every scope the user granted the client, space-separated. */
  scope: string;
  consented_at: number;
}

/** What each user allowed each client (SPEC §10), one row per user and client. */
export function createConsentQueries(db: Knex) {
  const consents = () => db<ConsentRow>('consents');
  return {
    async find(tenantId: string, userId: string, clientId: string): Promise<ConsentRow | undefined> {
      return consents().where({ tenant_id: tenantId, user_id: userId, client_id: clientId }).first();
    },
    async listForUser(tenantId: string, userId: string): Promise<ConsentRow[]> {
      return consents().where({ tenant_id: tenantId, user_id: userId }).orderBy('consented_at', 'desc');
    },
    async save(row: ConsentRow): Promise<void> {
      await consents().insert(row).onConflict(['tenant_id', 'user_id', 'client_id']).merge(['scope', 'consented_at']);
    },
    async remove(tenantId: string, userId: string, clientId: string): Promise<boolean> {
      return (await consents().where({ tenant_id: tenantId, user_id: userId, client_id: clientId }).delete()) > 0;
    },
  };
}
