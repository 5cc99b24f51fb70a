import type { Knex } from 'knex';

export type Signup = 'open' | 'closed';

export interface TenantRow {
  id: string;
  name: string;
  /** The tenant's own sign-up setting; null follows SIGNUP. */
  signup: Signup | null;
  created_at: number;
}

export function createTenantQueries(db: Knex) {
  const tenants = () => db<TenantRow>('tenants');
  return {
    async insert(tenant: TenantRow): Promise<void> {
      await tenants().insert(tenant);
    },
    async find(id: string): Promise<TenantRow | undefined> {
      return tenants().where({ id }).first();
    },
    async list(): Promise<TenantRow[]> {
      return tenants().orderBy('created_at', 'asc').orderBy('id', 'asc');
    },
    async update(id: string, changes: Partial<Pick<TenantRow, 'name' | 'signup'>>): Promise<boolean> {
      return (await tenants().where({ id }).update(changes)) > 0;
    },
    /** Deletes the tenant; every row of it goes with it (ON DELETE CASCADE). */
    async remove(id: string): Promise<boolean> {
      return (await tenants().where({ id }).delete()) > 0;
    },
  };
}
