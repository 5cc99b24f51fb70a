import type * as OpenIdClient from 'openid-client' with { 'resolution-mode': 'import' };
import type { TestServer } from '../support/server';

// The issuer must be fixed before the server binds its port, so it is a name; the relying party's
// fetch sends every request for it to the server on 127.0.0.1.
export const RP_ISSUER = 'http://tessera.test';
const REQUEST_TIMEOUT_MS = 5_000;

export const openIdClient = (): Promise<typeof OpenIdClient> => import('openid-client');

/** openid-client's discovery options for `server`: plain http allowed, requests routed to the test server. */
export async function relyingPartyOptions(server: TestServer): Promise<OpenIdClient.DiscoveryRequestOptions> {
  const client = await openIdClient();
  const loopbackFetch: OpenIdClient.CustomFetch = (url, init) => {
    const target = url.startsWith(`${RP_ISSUER}/`) ? `${server.url}${url.slice(RP_ISSUER.length)}` : url;
    if (!target.startsWith(`${server.url}/`)) throw new Error(`refusing to fetch ${url}: not the test server`);
    return fetch(target, { ...init, signal: init.signal ?? AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  };
  return { execute: [client.allowInsecureRequests], [client.customFetch]: loopbackFetch };
}

/** The relying party's view of tenant `tenantPath` ('' for the built-in tenant) as client `clientId`. */
export async function discover(server: TestServer, clientId: string, tenantPath = '', metadata?: Partial<OpenIdClient.ClientMetadata>): Promise<OpenIdClient.Configuration> {
  const client = await openIdClient();
  return client.discovery(new URL(`${RP_ISSUER}${tenantPath}`), clientId, metadata, undefined, await relyingPartyOptions(server));
}
