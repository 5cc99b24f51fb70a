import type { Knex } from 'knex';
import type { Bus } from '../bus/bus';
import { isUniqueViolation } from '../db/errors';
import { createClientQueries } from '../db/queries/clients';
import { createTenantQueries, type Signup, type TenantRow } from '../db/queries/tenants';
import { conflict, notFound } from '../errors';
import { builtInClient } from '../oauth/clients';
import { BUILT_IN_TENANT, issuerOf } from './tenant';

export interface NewTenant {
  readonly id: string;
  readonly name?: string | undefined;
  readonly signup?: Signup | undefined;
}

export type TenantChanges = Partial<Pick<TenantRow, 'name' | 'signup'>>;

/**
 * Tenants: adding one (with its built-in public client), changing its
 * settings and removing it with everything it holds. Every change is
 * announced on the bus, so the processes serving it follow at once.
 */
export class Tenants {
  readonly queries: ReturnType<typeof createTenantQueries>;

  constructor(
    private readonly db: Knex,
    private readonly bus: Bus,
    /** ISSUER, under which every tenant's issuer hangs. */
    private readonly rootIssuer: string,
  ) {
    this.queries = createTenantQueries(db);
  }

  async create(tenant: NewTenant, now = Date.now()): Promise<TenantRow> {
    const row: TenantRow = { id: tenant.id, name: tenant.name ?? tenant.id, signup: tenant.signup ?? null, created_at: now };
    try {
      await this.db.transaction(async (trx) => {
        await createTenantQueries(trx).insert(row);
        await createClientQueries(trx).insert(builtInClient(row.id, issuerOf(this.rootIssuer, row.id), now));
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict(`The tenant "${tenant.id}" exists.`);
      throw error;
    }
    return row;
  }

  async update(id: string, changes: TenantChanges): Promise<TenantRow> {
    const row = (await this.queries.update(id, changes)) ? await this.queries.find(id) : undefined;
    if (!row) throw notFound('tenant');
    this.bus.publish('tenants.changed', { tenantId: id, tenant: row });
    return row;
  }

  /** Removes a tenant and every row it owns; its tokens stop working and its sockets close. */
  async remove(id: string): Promise<void> {
    if (id === BUILT_IN_TENANT) throw conflict('The built-in tenant cannot be removed.');
    if (!(await this.queries.remove(id))) throw notFound('tenant');
    this.bus.publish('tenants.changed', { tenantId: id, tenant: null });
  }
}
