import { basePathOf, BUILT_IN_TENANT, tenantIdSchema } from './tenant';

/** Which tenant a request is for, and the path its routes see. */
export interface TenantTarget {
  readonly tenantId: string;
  /** Where the tenant's paths begin in this URL: `/t/<id>`, or '' at the root of the host. */
  readonly basePath: string;
  /** The request path with the base path taken off. */
  readonly path: string;
}

const TENANT_PATH = /^\/t\/([^/]+)(\/.*)?$/;
// RFC 8414 §3.1: the metadata of issuer <ISSUER>/t/<id> is at the well-known path with /t/<id> inserted after it.
// Some clients (MCP's, for one) look for the OpenID Connect document the same way (RFC 8414 §5).
const PATH_INSERTED_METADATA = /^(\/\.well-known\/(?:oauth-authorization-server|openid-configuration))\/t\/([^/]+)$/;

/** The host name of a Host header: lower case, without the port. */
function hostName(host: string | undefined): string {
  return (host ?? '').replace(/:\d*$/, '').toLowerCase();
}

function other(tenantId: string, basePath: string, path: string): TenantTarget | undefined {
  // The built-in tenant has one address, the root; ids that cannot exist are not looked up.
  if (tenantId === BUILT_IN_TENANT || !tenantIdSchema.safeParse(tenantId).success) return undefined;
  return { tenantId, basePath, path };
}

/**
 * SPEC §8: a host name TENANT_HOSTS maps serves that tenant at its root;
 * any other host serves tenant `<id>` under `/t/<id>` and the built-in
 * tenant at the root. Undefined when the path names no possible tenant (404).
 */
export function tenantTarget(hosts: ReadonlyMap<string, string>, host: string | undefined, path: string): TenantTarget | undefined {
  const mapped = hosts.get(hostName(host));
  if (mapped !== undefined) return { tenantId: mapped, basePath: '', path };
  const inserted = PATH_INSERTED_METADATA.exec(path);
  if (inserted) return other(inserted[2]!, '', inserted[1]!);
  const prefixed = TENANT_PATH.exec(path);
  if (!prefixed) return { tenantId: BUILT_IN_TENANT, basePath: '', path };
  return other(prefixed[1]!, basePathOf(prefixed[1]!), prefixed[2] ?? '/');
}
