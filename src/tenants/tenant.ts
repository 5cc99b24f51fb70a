import { z } from 'zod';
import type { Signup, TenantRow } from '../db/queries/tenants';

/** The built-in tenant: served at the root, created by the first migration, never removed. */
export const BUILT_IN_TENANT = 'default';

/** A tenant id is one DNS label: it appears in paths (`/t/<id>`), issuers and host mappings. */
export const tenantIdSchema = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/, 'must be 1–63 of a-z, 0-9 and "-", not starting or ending with "-"');

export const signupSchema = z.enum(['open', 'closed']);

/** Where a tenant's paths begin on a host that serves every tenant (SPEC §8). */
export const basePathOf = (tenantId: string): string => (tenantId === BUILT_IN_TENANT ? '' : `/t/${tenantId}`);

/** A base path as metrics label it: one series for every tenant, not one per tenant id. */
export const basePathTemplate = (basePath: string): string => basePath.replace(/^\/t\/[^/]+/, '/t/:tenant');

/** The `iss` of a tenant's tokens: ISSUER for the built-in tenant, `<ISSUER>/t/<id>` for the others. */
export const issuerOf = (issuer: string, tenantId: string): string => `${issuer}${basePathOf(tenantId)}`;

/** A tenant's sign-up: its own setting, or SIGNUP when it has none. */
export const signupOf = (row: TenantRow, fallback: Signup): Signup => row.signup ?? fallback;

/** A tenant as the admin API and the CLI show it. */
export const tenantJson = (row: TenantRow, issuer: string, defaultSignup: Signup) => ({
  id: row.id,
  name: row.name,
  issuer,
  signup: signupOf(row, defaultSignup),
  created_at: new Date(row.created_at).toISOString(),
});

/**
 * The settings of a tenant a process serves, from its row: kept current by
 * the tenant directory, so a change needs no restart.
 */
export class TenantSettings {
  constructor(
    private row: TenantRow,
    private readonly defaultSignup: Signup,
  ) {}

  /** The tenant's display name (shown by browsers as the passkey's relying party). */
  get name(): string {
    return this.row.name;
  }

  get signup(): Signup {
    return signupOf(this.row, this.defaultSignup);
  }

  /** False when `row` is of a tenant added since under the id of the one these settings are of. */
  isSameTenant(row: TenantRow): boolean {
    return row.id === this.row.id && row.created_at === this.row.created_at;
  }

  update(row: TenantRow): void {
    this.row = row;
  }
}
