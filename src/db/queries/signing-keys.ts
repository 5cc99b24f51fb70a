import type { Knex } from 'knex';

export interface SigningKeyRow {
  kid: string;
  tenant_id: string;
  alg: string;
  public_jwk: string;
  private_key: string;
  created_at: number;
  retired_at: number | null;
}

export function createSigningKeyQueries(db: Knex) {
  const keys = () => db<SigningKeyRow>('signing_keys');
  return {
    async insert(key: SigningKeyRow): Promise<void> {
      await keys().insert(key);
    },
    /** Keys still in use or still published: not retired, or retired after `publishedSince`. */
    async listPublished(tenantId: string, publishedSince: number): Promise<SigningKeyRow[]> {
      return keys()
        .where({ tenant_id: tenantId })
        .andWhere((q) => q.whereNull('retired_at').orWhere('retired_at', '>', publishedSince))
        .orderBy('created_at', 'desc')
        .orderBy('kid', 'desc');
    },
    async retireAllExcept(tenantId: string, kids: readonly string[], now: number): Promise<void> {
      await keys().where({ tenant_id: tenantId }).whereNotIn('kid', kids).whereNull('retired_at').update({ retired_at: now });
    },
  };
}
