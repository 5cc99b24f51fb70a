import type { SessionRow } from '../../src/db/queries/sessions';
import type { RefreshTokenRow } from '../../src/db/queries/refresh-tokens';
import type { TokenEndpointAuthMethod } from '../../src/db/queries/clients';
import type { GrantType } from '../../src/oauth/clients';
import type { TestServer } from './server';

/** A registered OAuth client; `secret` only for confidential ones. */
export interface TestClient {
  readonly id: string;
  readonly secret: string | undefined;
}

export interface ClientOptions {
  readonly scope?: string;
  readonly grantTypes?: GrantType[];
  readonly confidential?: boolean;
  /** How a confidential client authenticates: client_secret_basic or client_secret_post; either when absent. */
  readonly authMethod?: TokenEndpointAuthMethod;
}

/** Registers a client through the clients service (defaults: confidential, client_credentials, scope `push`). */
export async function createClient(server: TestServer, options: ClientOptions = {}): Promise<TestClient> {
  const { tenantId, clients } = server.tessera.services;
  const { client, secret } = await clients.create({
    tenantId,
    name: 'test client',
    scope: options.scope ?? 'push',
    grantTypes: options.grantTypes ?? ['client_credentials'],
    confidential: options.confidential ?? true,
    ...(options.authMethod && { tokenEndpointAuthMethod: options.authMethod }),
  });
  return { id: client.id, secret };
}

/** RFC 6749 §2.3.1: id and secret are form-encoded, joined by a colon, then Base64-encoded. */
export function basicAuth(id: string, secret: string): { Authorization: string } {
  const formEncode = (value: string) => encodeURIComponent(value).replace(/%20/g, '+');
  return { Authorization: `Basic ${Buffer.from(`${formEncode(id)}:${formEncode(secret)}`).toString('base64')}` };
}

/** A confidential client's own secret, or a failure when the client has none. */
export function secretOf(client: TestClient): string {
  if (client.secret === undefined) throw new Error(`client ${client.id} has no secret`);
  return client.secret;
}

/** A `POST /token` with form parameters. */
export const tokenRequest = (server: TestServer, fields: Record<string, string>) => server.request.post('/token').type('form').send(fields);

/** The decoded (unverified) header and claims of a JWT. */
export function decodeJwt(token: string): { header: Record<string, unknown>; claims: Record<string, unknown> } {
  const [header, claims] = token.split('.').slice(0, 2).map((part) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>);
  if (!header || !claims) throw new Error('not a JWT');
  return { header, claims };
}

/** The `sid` claim of an access token. */
export function sessionIdOf(accessToken: string): string {
  const { sid } = decodeJwt(accessToken).claims;
  if (typeof sid !== 'string') throw new Error('access token without sid');
  return sid;
}

/** The stored row of a session. */
export async function sessionRow(server: TestServer, id: string): Promise<SessionRow> {
  const row = await server.tessera.services.db<SessionRow>('sessions').where({ id }).first();
  if (!row) throw new Error(`no session ${id}`);
  return row;
}

/** Every stored refresh token of a session. */
export const refreshTokenRows = (server: TestServer, sessionId: string): Promise<RefreshTokenRow[]> =>
  server.tessera.services.db<RefreshTokenRow>('refresh_tokens').where({ session_id: sessionId });
