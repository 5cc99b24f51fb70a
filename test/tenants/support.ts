import type { Signup } from '../../src/db/queries/tenants';
import { Tenants } from '../../src/tenants/tenants';
import type { TestServer } from '../support/server';
import { bearer, login, PASSWORD, type Tokens } from '../support/users';

export const ISSUER = 'https://tessera.example.test';
export const ADMIN = { ADMIN_USERNAME: 'root', ADMIN_PASSWORD: 'the admin password' };

const METHODS = ['get', 'post', 'put', 'patch', 'delete', 'options', 'head'] as const;

/** Adds a tenant the way `tessera tenant add` does. */
export async function addTenant(server: TestServer, id: string, signup?: Signup): Promise<void> {
  const { db, bus } = server.tessera.services;
  await new Tenants(db, bus, server.tessera.services.config.issuer).create({ id, signup });
}

/**
 * The server as tenant `id` sees it under `/t/<id>`: requests, the socket URL and the services
 * (for test setup) are that tenant's, so every helper written for the built-in tenant works on it.
 */
export async function asTenant(server: TestServer, id: string): Promise<TestServer> {
  const services = await server.tessera.tenants.get(id);
  if (!services) throw new Error(`no tenant ${id}`);
  const prefix = `/t/${id}`;
  const request = Object.fromEntries(METHODS.map((method) => [method, (path: string) => server.request[method](`${prefix}${path}`)]));
  return { ...server, url: `${server.url}${prefix}`, request: request as unknown as TestServer['request'], tessera: { ...server.tessera, services } };
}

/** Creates an admin of the server's tenant and returns an admin-scoped login of it. */
export async function tenantAdmin(server: TestServer, username: string): Promise<Tokens> {
  const { users, tenantId } = server.tessera.services;
  await users.create({ tenantId, username, password: PASSWORD, roles: ['admin'] });
  return login(server, username, PASSWORD, { scope: 'admin' });
}

/** Requests with a bearer token. */
export const as = (server: TestServer, tokens: Tokens) => ({
  get: (path: string) => server.request.get(path).set(bearer(tokens.access_token)),
  post: (path: string, body: object = {}) => server.request.post(path).set(bearer(tokens.access_token)).send(body),
  patch: (path: string, body: object) => server.request.patch(path).set(bearer(tokens.access_token)).send(body),
  delete: (path: string) => server.request.delete(path).set(bearer(tokens.access_token)),
});
