import { createHmac } from 'node:crypto';
import { AccessTokens, retiredKeyLifetimeMs } from '../auth/access-tokens';
import { KeyRing } from '../auth/key-ring';
import type { TenantRow } from '../db/queries/tenants';
import type { Services } from '../services';
import { BUILT_IN_TENANT, issuerOf, TenantSettings } from './tenant';

/** What every tenant of a process shares: the database, bus, logger, metrics and the tenant-neutral services. */
export type SharedServices = Omit<Services, 'tenantId' | 'tenant' | 'keys' | 'accessTokens'>;

/**
 * A tenant's HS256 key: JWT_SECRET for the built-in tenant, and for every other one a key derived
 * from it, the tenant's id and when the tenant was added. So a token is signed for one tenant only
 * (not only told apart by `iss`), and a tenant removed and added again under its id does not
 * accept the tokens of the one removed, which would name users that no longer exist (RFC 8725 §3.12).
 */
function tenantSecret(jwtSecret: string | undefined, tenant: TenantRow): string | undefined {
  if (jwtSecret === undefined || tenant.id === BUILT_IN_TENANT) return jwtSecret;
  return createHmac('sha256', jwtSecret).update(`tessera tenant key\0${tenant.id}\0${tenant.created_at}`).digest('base64url');
}

/**
 * The services of one tenant: the shared ones, with the tenant's own issuer
 * (and so the metadata, the OpenAPI server and the tokens' `iss`), audience,
 * signing keys and settings. AUDIENCE, when set apart from ISSUER, is the
 * audience of every tenant; otherwise each tenant's is its issuer.
 */
export async function servicesForTenant(shared: SharedServices, tenant: TenantRow): Promise<Services> {
  const { config, db, revoked, clients } = shared;
  const issuer = issuerOf(config.issuer, tenant.id);
  await clients.syncBuiltIn(tenant.id, issuer);
  const audience = config.audience === config.issuer ? issuer : config.audience;
  const keys = new KeyRing(db, {
    tenantId: tenant.id,
    alg: config.jwtAlg,
    secret: tenantSecret(config.jwtSecret, tenant),
    retiredKeyLifetimeMs: retiredKeyLifetimeMs(config.accessTokenTtl),
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
