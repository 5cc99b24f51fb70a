import { AccessTokens, tokenRetentionMs } from '../auth/access-tokens';
import { KeyRing } from '../auth/key-ring';
import type { TenantRow } from '../db/queries/tenants';
import type { Services } from '../services';
import { issuerOf, TenantSettings } from './tenant';

/** What every tenant of a process shares: the database, bus, logger, metrics and the tenant-neutral services. */
export type SharedServices = Omit<Services, 'tenantId' | 'tenant' | 'keys' | 'accessTokens'>;

/**
 * The services of one tenant: the shared ones, with the tenant's own issuer
 * (and so the metadata, the OpenAPI server and the tokens' `iss`), audience,
 * signing keys and settings. AUDIENCE, when set apart from ISSUER, is the
 * audience of every tenant; otherwise each tenant's is its issuer.
 */
export async function servicesForTenant(shared: SharedServices, tenant: TenantRow): Promise<Services> {
  const { config, db, revoked } = shared;
  const issuer = issuerOf(config.issuer, tenant.id);
  const audience = config.audience === config.issuer ? issuer : config.audience;
  const keys = new KeyRing(db, {
    tenantId: tenant.id,
    alg: config.jwtAlg,
    secret: config.jwtSecret,
    retiredKeyLifetimeMs: tokenRetentionMs(config.accessTokenTtl),
  });
  await keys.load();
  return {
    ...shared,
    config: Object.freeze({ ...config, issuer, audience }),
    tenantId: tenant.id,
    tenant: new TenantSettings(tenant, config.signup),
    keys,
    accessTokens: new AccessTokens(keys, revoked, { tenantId: tenant.id, issuer, audience, ttl: config.accessTokenTtl }),
  };
}
