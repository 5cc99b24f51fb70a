import { expect } from 'chai';
import type { Response } from 'supertest';
import { basicAuth, createClient, secretOf, tokenRequest } from './oauth';
import { startServer, type DatabaseKind, type TestServer } from './server';
import { bearer, login, newUser, PASSWORD } from './users';

/** Bearer headers for a user token; the SPEC §3.3 default scopes unless `scope` narrows them. */
export type Auth = ReturnType<typeof bearer>;

/** Signs a user up and returns the user's id and a bearer header. */
export async function userAuth(server: TestServer, username: string): Promise<{ id: string; auth: Auth }> {
  const { id, tokens } = await newUser(server, username);
  return { id, auth: bearer(tokens.access_token) };
}

/** A bearer header for an existing user with exactly `scope`. */
export async function scopedAuth(server: TestServer, username: string, scope: string): Promise<Auth> {
  const tokens = await login(server, username, PASSWORD, { scope });
  expect(tokens.scope).to.equal(scope);
  return bearer(tokens.access_token);
}

/**
 * A confidential client_credentials client registered with `clientScope`, and a bearer header for a token
 * with `tokenScope` (default: all of the client's scope).
 */
export async function clientAuth(server: TestServer, clientScope = 'push', tokenScope?: string): Promise<{ clientId: string; auth: Auth }> {
  const client = await createClient(server, { scope: clientScope });
  const res = await tokenRequest(server, { grant_type: 'client_credentials', ...(tokenScope ? { scope: tokenScope } : {}) }).set(
    basicAuth(client.id, secretOf(client)),
  );
  expect(res.status, JSON.stringify(res.body)).to.equal(200);
  return { clientId: client.id, auth: bearer(res.body.access_token as string) };
}

/** The target of `Link: <…>; rel="next"` (RFC 8288), or undefined on the last page. */
export function nextLink(res: Response): string | undefined {
  const link = res.headers.link as string | undefined;
  if (link === undefined) return undefined;
  const match = /<([^>]+)>\s*;\s*rel="next"/.exec(link);
  expect(match, `a rel="next" link in ${link}`).to.not.equal(null);
  return match![1];
}

/**
 * GETs `first` and follows rel="next" until a page has none; returns the pages' bodies.
 * At most `maxPages` pages are fetched (a link loop fails the test); `between` runs after each page.
 */
export async function followPages<T>(
  server: TestServer,
  auth: Auth,
  first: string,
  maxPages: number,
  between: (pageIndex: number) => Promise<void> = async () => undefined,
): Promise<T[][]> {
  const pages: T[][] = [];
  let url: string | undefined = first;
  while (url !== undefined) {
    expect(pages.length, `more than ${maxPages} pages from ${first}`).to.be.below(maxPages);
    const res = await server.request.get(url).set(auth);
    expect(res.status, JSON.stringify(res.body)).to.equal(200);
    pages.push(res.body as T[]);
    url = nextLink(res);
    if (url !== undefined) await between(pages.length - 1);
  }
  return pages;
}

/** Posts a message as the bearer; returns the response (201 new, 200 for a repeated nonce). */
export const postMessage = (server: TestServer, auth: Auth, sessionId: string, body: Record<string, unknown>) =>
  server.request.post(`/messages/${encodeURIComponent(sessionId)}`).set(auth).send(body);

/** Starts a conversation through the API; asserts 201 and returns its id. */
export async function startConversation(server: TestServer, auth: Auth, members: string[], title?: string): Promise<string> {
  const res = await server.request.post('/conversations').set(auth).send({ members, ...(title ? { title } : {}) });
  expect(res.status, JSON.stringify(res.body)).to.equal(201);
  return res.body.id as string;
}

/** The `scope="…"` a 403 insufficient_scope challenge names (RFC 6750 §3). */
export function challengedScope(res: Response): string | undefined {
  const header = res.headers['www-authenticate'] as string | undefined;
  return header ? /scope="([^"]*)"/.exec(header)?.[1] : undefined;
}

/** A fresh server on `database` with alice signed up, and her bearer header; a server whose sign-up failed is closed again. */
export async function startServerWithAlice(database: DatabaseKind): Promise<{ server: TestServer; auth: Auth }> {
  const server = await startServer({}, database);
  try {
    return { server, auth: (await userAuth(server, 'alice')).auth };
  } catch (error) {
    await server.close();
    throw error;
  }
}
