import { formatScope, parseScope } from '../auth/scopes';
import { createConsentQueries } from '../db/queries/consents';
import type { Services } from '../services';

/** What a user allowed each third-party client (SPEC §10): asked again only for scopes not yet granted. */
export class Consents {
  readonly queries: ReturnType<typeof createConsentQueries>;

  constructor(private readonly services: Pick<Services, 'db' | 'tenantId'>) {
    this.queries = createConsentQueries(services.db);
  }

  /** True when the user granted the client every one of `scopes` before. */
  async covers(userId: string, clientId: string, scopes: readonly string[]): Promise<boolean> {
    const row = await this.queries.find(this.services.tenantId, userId, clientId);
    const granted = new Set(parseScope(row?.scope));
    return row !== undefined && scopes.every((scope) => granted.has(scope));
  }

  /** Remembers `scopes` beside what the user granted the client before. */
  async grant(userId: string, clientId: string, scopes: readonly string[]): Promise<void> {
    const row = await this.queries.find(this.services.tenantId, userId, clientId);
    const all = new Set([...parseScope(row?.scope), ...scopes]);
    await this.queries.save({ tenant_id: this.services.tenantId, user_id: userId, client_id: clientId, scope: formatScope(all), consented_at: Date.now() });
  }
}
