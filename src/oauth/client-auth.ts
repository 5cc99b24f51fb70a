import type { ClientRow } from '../db/queries/clients';
import { invalidClient, invalidRequest } from '../errors';
import { BUILT_IN_CLIENT_ID, type Clients } from './clients';

interface PresentedCredentials {
  readonly id: string;
  readonly secret: string | undefined;
  readonly basic: boolean;
}

// RFC 6749 §2.3.1: id and secret are form-encoded before Base64.
const formDecode = (value: string) => decodeURIComponent(value.replace(/\+/g, ' '));

function basicCredentials(authorization: string | undefined): PresentedCredentials | undefined {
  const match = /^Basic[ ]+([A-Za-z0-9+/]+=*)\s*$/i.exec(authorization ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw invalidClient('The Basic credentials are malformed.', true);
  try {
    return { id: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)), basic: true };
  } catch {
    throw invalidClient('The Basic credentials are malformed.', true);
  }
}

function presentedCredentials(authorization: string | undefined, body: Record<string, unknown>): PresentedCredentials {
  const basic = basicCredentials(authorization);
  const bodyId = typeof body.client_id === 'string' ? body.client_id : undefined;
  const bodySecret = typeof body.client_secret === 'string' ? body.client_secret : undefined;
  if (basic) {
    // RFC 6749 §2.3: a client must not use more than one authentication method.
    if (bodySecret !== undefined || (bodyId !== undefined && bodyId !== basic.id)) {
      throw invalidRequest('Use one client authentication method, not several.');
    }
    return basic;
  }
  return { id: bodyId ?? BUILT_IN_CLIENT_ID, secret: bodySecret, basic: false };
}

/**
 * The client making an OAuth request: Basic or body credentials (either, SPEC §3.1, unless the client
 * registered a `token_endpoint_auth_method`), or the built-in public client `tessera` when none are given.
 */
export async function authenticateClient(
  clients: Clients,
  tenantId: string,
  authorization: string | undefined,
  body: Record<string, unknown>,
): Promise<ClientRow> {
  const presented = presentedCredentials(authorization, body);
  const client = await clients.queries.find(tenantId, presented.id);
  if (!client) throw invalidClient('Unknown client.', presented.basic);
  if (client.confidential) {
    if (presented.secret === undefined || !clients.secretMatches(client, presented.secret)) {
      throw invalidClient('Client authentication failed.', presented.basic);
    }
    // RFC 7591 §2: a client authenticates with the method it registered, not another one.
    const method = client.token_endpoint_auth_method;
    if (method !== null && presented.basic !== (method === 'client_secret_basic')) {
      throw invalidClient(`This client authenticates with ${method}.`, presented.basic);
    }
  } else if (presented.secret !== undefined) {
    throw invalidClient('A public client has no secret.', presented.basic);
  }
  return client;
}
