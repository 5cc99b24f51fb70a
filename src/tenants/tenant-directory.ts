import { createTenantQueries, type TenantRow } from '../db/queries/tenants';
import type { Services } from '../services';
import { servicesForTenant } from './tenant-services';
import { tenantTarget, type TenantTarget } from './tenant-target';

/**
 * The tenants this process serves: the built-in one from the start, any
 * other built on its first request and kept until it is removed. Shared
 * pieces (database, bus, sockets, metrics) stay shared; each tenant adds
 * its issuer, keys and settings. Changes arrive on the bus (`apply`), and
 * by a poll (`refresh`) for processes that share only the database.
 */
export class TenantDirectory {
  private readonly served = new Map<string, Promise<Services>>();
  private readonly removedListeners = new Set<(tenantId: string) => void>();
  private readonly queries: ReturnType<typeof createTenantQueries>;

  constructor(readonly root: Services) {
    this.queries = createTenantQueries(root.db);
    this.served.set(root.tenantId, Promise.resolve(root));
  }

  /** Which tenant a request is for (SPEC §8); undefined when its path names no possible tenant. */
  target(host: string | undefined, path: string): TenantTarget | undefined {
    return tenantTarget(this.root.config.tenantHosts, host, path);
  }

  /** A tenant's services, built on its first use; undefined when there is no such tenant. */
  async get(tenantId: string): Promise<Services | undefined> {
    const known = this.served.get(tenantId);
    if (known) return known;
    const row = await this.queries.find(tenantId);
    if (!row) return undefined;
    // Another request may have started the same tenant while this one read its row.
    let entry = this.served.get(tenantId);
    if (!entry) {
      const building = servicesForTenant(this.root, row);
      this.served.set(tenantId, building);
      // A failed start (the database away) must not stick: the next request tries again.
      building.catch(() => this.forget(tenantId, building, false));
      entry = building;
    }
    return entry;
  }

  /** Calls `listener` with the id of every served tenant found removed. */
  onRemoved(listener: (tenantId: string) => void): () => void {
    this.removedListeners.add(listener);
    return () => this.removedListeners.delete(listener);
  }

  /** Applies a tenant's row as it is now (undefined: removed) to the served tenant of that id, if any. */
  apply(tenantId: string, row: TenantRow | undefined): void {
    const entry = this.served.get(tenantId);
    if (!entry) return;
    if (row) {
      void entry.then(
        ({ tenant }) => (tenant.isSameTenant(row) ? tenant.update(row) : this.forget(tenantId, entry, true)),
        () => undefined,
      );
    } else if (tenantId !== this.root.tenantId) {
      this.forget(tenantId, entry, true);
    }
  }

  /** Brings every served tenant in line with the database: for processes that do not share a bus. */
  async refresh(): Promise<void> {
    const rows = new Map((await this.queries.list()).map((row) => [row.id, row]));
    for (const id of [...this.served.keys()]) this.apply(id, rows.get(id));
  }

  /** Reloads the signing keys of one served tenant (after a rotation), or of every one. */
  async reloadKeys(tenantId?: string): Promise<void> {
    const one = tenantId === undefined ? undefined : this.served.get(tenantId);
    const entries = tenantId === undefined ? [...this.served.values()] : one ? [one] : [];
    await Promise.all(entries.map(async (entry) => (await entry).keys.load()));
  }

  private forget(tenantId: string, entry: Promise<Services>, removed: boolean): void {
    if (this.served.get(tenantId) !== entry) return;
    this.served.delete(tenantId);
    if (removed) for (const listener of this.removedListeners) listener(tenantId);
  }
}
